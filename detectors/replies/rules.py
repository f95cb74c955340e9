"""Rules: the automatic messages (bounce, out of office, auto-reply) told by their headers and
wording, which the model then does not have to guess, and a keyword baseline for every label
that the model is measured against (docs/replies.md, "Rules and model")."""

from __future__ import annotations

import re
from collections.abc import Mapping

_AUTO_SUBMITTED = {"auto-replied", "auto-generated", "auto-notified"}
_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mail delivery)", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliverable|undelivered mail|delivery status notification|mail delivery (failed|failure|"
    r"subsystem)|returned mail|delivery (has )?failed|failure notice|could not be delivered|"
    r"delivery delayed|delayed mail|unzustellbar|nicht zustellbar|non remis|non distribuable|"
    r"échec de (la )?(remise|distribution)|no se puede entregar|no entregado|message blocked",
    re.I,
)
_BOUNCE_BODY = re.compile(
    r"\b[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b|\b[45]\.\d\.\d{1,2}\b.*(user|mailbox|recipient|"
    r"address|rejected|blocked)|this is the mail system at host|qmail-send program|"
    r"message that you sent could not be delivered|delivery to the following recipient"
    r"|address (was )?not found|wasn't delivered to|could not be delivered to|"
    r"delivery has failed to these recipients|the recipient's mailbox is full|"
    r"domain name not found|host or domain name not found|unrouteable address|"
    r"diagnostic-code|final-recipient:|reporting-mta:|remote server returned",
    re.I,
)
_ABSENCE = re.compile(
    r"out of (the )?office|\booo\b|on (annual |parental |maternity |paternity |sick |study )?"
    r"leave|on holiday|on vacation|on sabbatical|away from (the office|my desk|email)|"
    r"limited access to (my )?e-?mail|currently (away|travell?ing|out)|i am (away|out)|i'm (away|out)|"
    r"will be (away|out)|back in the office|return to the office|public holiday|"
    r"out sick|sick leave|sabbatical|travell?ing|on the road|at (a|the) conference|"
    r"offices? (is |are |will be )?closed|closed for the|back (on|next|online|in town)\b|"
    r"\breturning\b|^\s*away\s*:|on holidays?\b|not checking (this inbox|my inbox|e-?mails?)|"
    r"checking e-?mails? (only )?occasionally|no (reliable )?(connectivity|internet|signal)|"
    r"en déplacement|accès limité|viajando|acceso limitado|"
    r"nicht im büro|abwesend|abwesenheit|urlaub|elternzeit|dienstreise|außer haus|"
    r"absente?\b|en congés?|en vacances|hors du bureau|congé maternité|"
    r"fuera de la oficina|de vacaciones|ausente|de viaje|baja (por )?maternidad",
    re.I | re.M,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|auto-response|out of (the )?office|"
    r"abwesenheit|automatische antwort|réponse automatique|respuesta automática|absence)",
    re.I,
)

# Without headers (vendors' webhooks carry none), an absence notice is told by absence wording
# beside the wording of a notice, in a text that asks nothing.
_NOTICE = re.compile(
    r"thanks? (you )?for your (e-?mail|message|note)|automatic reply|auto-?reply|"
    r"limited (access|connectivity)|(respond|reply|get back to you)[^.]{0,30}(when|upon|after) "
    r"(i|my) return|\buntil\b|\breturning\b|\bback (on|in the office|from)\b|"
    r"for (urgent|immediate) (matters|assistance|enquiries|inquiries|requests)|"
    r"in dringenden fällen|\bbis (zum|einschließlich|am)\b|ab dem|jusqu'(au|à)|en cas d'urgence|"
    r"hasta el|para (asuntos|temas) urgentes|de vuelta el",
    re.I,
)

# A person who is away and answers anyway ("out until Monday, but yes, let's talk").
_PERSONAL_ANSWER = re.compile(
    r"\b(but|however|yes|sure|happy to|let'?s|let us|interested|sounds good)\b|"
    r"\b(aber|gerne|ja)\b|\b(mais|oui|volontiers)\b|\b(pero|sí|claro)\b",
    re.I,
)

# Without any header, only wording no person writes to a cold email makes it automatic.
_AUTO_STRONG = re.compile(
    r"this (mailbox|inbox|e-?mail address|address) is (no longer |not )(being )?(monitored|in use|"
    r"active|checked)|(ticket|case|request) (#|number|id|no\.?|ref)\s*:?\s*\[?#?[\w-]*\d|"
    r"this is an? (automated|automatic|auto-generated) (message|response|reply|notification)|"
    r"(verify|confirm) (that )?you are (a )?human|do not reply to this (e-?mail|message)|"
    r"(we|i) have received your (message|e-?mail|request|enquiry|inquiry) and will|"
    r"aim to (respond|reply|get back to you) within|automatic acknowledge?ment|"
    r"your (message|e-?mail|request|enquiry|inquiry) has been (received|logged|registered)|"
    r"(held|quarantined) pending (sender )?verification|automated anti-spam|"
    r"i only (receive|accept) (e-?mails?|messages) from (senders|people) i have approved|"
    r"dies ist eine automatische|ceci est une réponse automatique|"
    r"este es un mensaje automático|esta es una respuesta automática",
    re.I,
)


def header(headers: Mapping[str, str] | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value or "").strip().lower()
    return ""


def is_automatic(headers: Mapping[str, str] | None) -> bool:
    """RFC 3834 and its kin: the message says it was sent by a machine."""
    submitted = header(headers, "auto-submitted")
    return (
        (submitted != "" and submitted != "no" and submitted.split(";")[0] in _AUTO_SUBMITTED)
        or header(headers, "x-autoreply") in {"yes", "true", "1"}
        or header(headers, "x-autorespond") != ""
        or header(headers, "precedence") in _PRECEDENCE
        or header(headers, "x-auto-response-suppress") in {"all", "oof", "autoreply"}
    )


def is_bounce(sender: str, subject: str, text: str, headers: Mapping[str, str] | None) -> bool:
    content_type = header(headers, "content-type")
    if "report-type=delivery-status" in content_type or header(headers, "x-failed-recipients"):
        return True
    machine = bool(_BOUNCE_SENDER.match(sender or ""))
    by_subject = bool(_BOUNCE_SUBJECT.search(subject or ""))
    by_body = bool(_BOUNCE_BODY.search(text[:6000]))
    return (machine and (by_subject or by_body)) or (by_subject and by_body)


def automatic_intent(
    sender: str, subject: str, text: str, headers: Mapping[str, str] | None
) -> str | None:
    """bounce, out_of_office or auto_reply when the message was sent by a machine; else None."""
    if is_bounce(sender, subject, text, headers):
        return "bounce"
    flagged = is_automatic(headers) or bool(_AUTO_SUBJECT.search(subject or ""))
    head = text[:1500]
    if flagged and _ABSENCE.search(head):
        return "out_of_office"
    if flagged:
        return "auto_reply"
    if _AUTO_STRONG.search(head):
        # "this is an automatic reply: I'm on holiday" is an absence notice
        return "out_of_office" if _ABSENCE.search(head) else "auto_reply"
    opening = text[:600]
    if (
        _ABSENCE.search(opening)
        and _NOTICE.search(opening)
        and not _PERSONAL_ANSWER.search(opening)
        and "?" not in opening
    ):
        return "out_of_office"
    return None


# The baseline: the first keyword family that matches decides, in the rule book's order.
_BASELINE_INTENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "unsubscribe",
        re.compile(
            r"unsubscribe|remove me|take me off|stop (e-?mailing|emailing|contacting|sending)|"
            r"do not (contact|email)|don't (contact|email) me|opt(ed)? out|gdpr|rgpd|dsgvo|"
            r"delete (my|all) (data|personal)|austragen|streichen sie|désinscri|darme de baja|"
            r"no me (escriba|contacte)",
            re.I,
        ),
    ),
    (
        "referral",
        re.compile(
            r"(contact|reach out to|speak (to|with)|talk (to|with)|try) (my colleague|our )|"
            r"(looping|loop) in|cc'?d|forwarded (this|it|your)|passed (this|it|your)|right person is|"
            r"person (for this|to talk to) is|in copy|wenden sie sich an|mon collègue|ma collègue|"
            r"contactez|mi compañer[oa]|le he reenviado|\+\w+",
            re.I,
        ),
    ),
    (
        "wrong_person",
        re.compile(
            r"not the right (person|contact)|wrong (person|contact)|no longer (work|with)|left the "
            r"company|not my (area|department)|i'?m not (in|the)|nicht zuständig|pas la bonne "
            r"personne|no soy la persona",
            re.I,
        ),
    ),
    (
        "meeting_request",
        re.compile(
            r"\b(call|meeting|meet|demo|chat|zoom|teams|calendly|calendar|slot|invite)\b.*"
            r"(monday|tuesday|wednesday|thursday|friday|next week|tomorrow|\d{1,2}(:\d\d)?\s*(am|pm)|"
            r"works|free|available|send)|let'?s (talk|chat|meet|set up|book)|book a (call|time|slot)|"
            r"termin|rendez-vous|reunión|llamada",
            re.I,
        ),
    ),
    (
        "not_interested",
        re.compile(
            r"not interested|no thanks|no thank you|not (a )?(fit|priority|for us)|we'?re (all )?set|"
            r"pass\b|not at this time|not right now|kein interesse|pas intéressé|no nos interesa|"
            r"no estamos interesados|already (use|have|work with)|don'?t need",
            re.I,
        ),
    ),
    ("info_request", re.compile(r"\?|send (me|over|us)|more (info|information|details)", re.I)),
    (
        "interested",
        re.compile(
            r"interested|sounds (good|great|interesting)|tell me more|next steps|yes\b|keen|"
            r"interessant|intéressant|me interesa",
            re.I,
        ),
    ),
]
# The reasons against buying, each as the wording a person gives it in (docs/replies-labelling.md,
# "Objection type"): a cost that is a problem (not a question about the price), a time that is
# wrong (not a "funny timing"), a boss or board that must decide (not a colleague pointed to).
# The sender's own words only: the subject is mostly the outreach's.
_BASELINE_OBJECTIONS: list[tuple[str, re.Pattern[str]]] = [
    (
        "pricing",
        re.compile(
            r"too (expensive|pricey|costly|much for us)|expensive|overpriced|pricey|"
            r"(can'?t|cannot|couldn'?t|unable to) afford|afford (it|this|that)|"
            r"\b(no|zero|little|limited|tight|small|no spare|not enough|not the|without( the)?|any) "
            r"budget|budget (for \w+( \w+)? )?(is|are|was|were|has been|'s|got)( \w+)? (tight|gone|"
            r"spent|allocated|frozen|cut|slashed|exhausted|used up|maxed|stretched|limited)|"
            r"(on|with) the budget|(don'?t|do not) have (the |a |any )?budget|outside (what|our|my) |"
            r"money is tight|(problem|issue) is (the )?(money|cost|price|budget|"
            r"fees?)|out of (our|my) (price )?(range|budget|league)|price range|"
            r"(way |well |far )?beyond (what|our|my)|(fees?|costs?|prices?|rates?) (exceed|are too|"
            r"is too|are (well |way )?above|is (well |way )?above)|(more|triple|double) (than|what) "
            r"(we|i|our|my) .{0,40}(budget|pay|spend|afford|allocate)|"
            r"can'?t justify (the )?(cost|spend|price|that|it)|cash[- ]?(flow|strapped)|"
            r"can'?t spend|(more|higher) than [^.?!]{0,40}\bcosts? (me|us)|"
            r"(cost|price|pricing|fees?) (is|are|was|were) (an issue|a problem|the issue)|"
            r"zu teuer|nicht leisten|kein(en)? budget|budget (ist|sind)( \w+)? (knapp|weg|aufgebraucht|"
            r"verplant|erschöpft|gestrichen)|rechnet sich\b.{0,60}\bnicht|lohnt sich\b.{0,40}\bnicht|"
            r"trop cher|coûte trop|hors (de )?(notre )?budget|pas (de|le|assez de) budget|"
            r"budget (est |reste )?(serré|limité|épuisé|bouclé)|pas les moyens|au-dessus de nos moyens|"
            r"(muy|demasiado) car[oa]|presupuesto\b.{0,30}(ajustado|limitado|agotado|justo|cerrado)|"
            r"sin presupuesto|no (tenemos|hay) presupuesto|no (nos )?(lo )?podemos permitir|"
            r"fuera de (nuestro )?presupuesto",
            re.I,
        ),
    ),
    (
        "competitor",
        re.compile(
            r"already (use|using|work with|working with|signed|partner|run|running|rely on)|"
            r"already (have|got) (a|an|our|one)( \w+){0,3} (agency|vendor|provider|partner|supplier|"
            r"tool|solution|system|platform|contract|retainer|msp|firm|company|consultancy)|"
            r"signed (up )?with|(went|gone|going|go) with (another|a different|someone else|"
            r"(?-i:[A-Z]\w+))|(we'?re|we are|we'?ve been) (with|on|using) (?-i:[A-Z]\w+)|"
            r"\b(we )?use (?-i:[A-Z]\w+) (today|already|for|and)|our (current|existing|incumbent) "
            r"(vendor|provider|agency|partner|supplier|tool|contract|system|platform|msp|firm)|"
            r"incumbent|framework agreement|our (agency|vendor|provider|partner|msp|supplier) "
            r"(handles|runs|does|covers|takes care)|(stick|sticking|stay|staying) with (them|our|"
            r"(?-i:[A-Z]\w+))|happy with (our|them|it|the one|what we)|(not|no) (looking|planning|"
            r"interest(ed)?|going) (to|in) (chang|switch|mov|migrat)|switch(ing)? (provider|vendor|"
            r"agenc|tool|away|from|over)|(just|recently) (rolled out|moved|switched|signed|"
            r"implemented|bought|went|chose|picked|migrated)|retainer with|"
            r"(another|a different|other) (provider|vendor|agency|supplier|tool|partner|firm)|"
            r"(nutzen|verwenden|arbeiten mit) (bereits|schon|seit)|bereits (einen?|eine|mit) "
            r"(\w+ )?(anbieter|dienstleister|partner|agentur|lösung|tool|system)|wechsel\b.{0,40}\b"
            r"(nicht|kein)|zufrieden mit|bestehenden? (anbieter|vertrag|dienstleister|partner)|"
            r"(utilisons|travaillons) (déjà|avec)|déjà (un|une|avec) (\w+ )?(prestataire|fournisseur|"
            r"agence|partenaire|solution|outil)|satisfaits (de|avec)|changer de (prestataire|"
            r"fournisseur|outil|agence)|ya (trabajamos|usamos|utilizamos|tenemos|contamos)|"
            r"(contentos|satisfechos) con|no (buscamos|queremos|pensamos) cambiar|"
            r"(proveedor|agencia) actual|otra (agencia|empresa)|otro proveedor",
            re.I,
        ),
    ),
    (
        "timing",
        re.compile(
            r"not (right )?now|not (at )?(this|the moment|the minute)|not (the )?(right|best|a good) "
            r"time|(bad|rough|poor|wrong|terrible|awful|tough|tricky|difficult) (timing|time for)|"
            r"timing( on this| here| for us)? (is|isn'?t|was|could ?n'?t be) (not |really |just "
            r"|a bit )?(bad|rough|off|wrong|"
            r"terrible|tough|awful|tricky|not great|difficult)|(issue|problem) is (the )?timing|"
            r"next (year|quarter|fiscal|financial year|budget cycle)|"
            r"(until|till|before|after|in|from|not before|through) (at least )?(q[1-4]|h[12])\b|"
            r"later (this|in the) year|(rest|end|first half|second half) of the (year|quarter)|"
            r"(hiring|budget|project|spending) freeze|(frozen|paused) (all|every|any) (new )?(projects?|"
            r"spend|spending|purchases|hiring)|(we'?re|we are|i'?m|i am) "
            r"(right |currently |still )?(in the middle of|mid[- ]\w+|heads[- ]down|underwater|"
            r"flat out|swamped|slammed|buried|stretched)|\b(too|very|really|so|super|crazy) busy|"
            r"nothing('?s)? .{0,30}(before|until)|(circle|come|check|get) back (to me )?(in|after|"
            r"next|later|once)|revisit|reach out (again )?(in|after|next|later)|(ping|contact|try) "
            r"(me|us) (again )?(in|after|next|later)|last thing on (my|our) (list|mind)|"
            r"maybe (later|some ?day)|some ?day|down the (road|line)|until then|"
            r"not (evaluating|looking at|considering|taking on) (\w+ ){0,3}(right now|at the moment|"
            r"this year|until|before)|(isn'?t|not) something (i|we) can (\w+ ){1,2}(in \d{4}|this "
            r"year|right now|now|until|before)|"
            r"in a (few|couple of) months|(after|until|once) (the|our|we|this) (launch|migration|"
            r"merger|acquisition|renewal|round|raise|audit|move|integration|rollout|busy season|"
            r"year[- ]end|quarter[- ]end)|"
            r"nicht (jetzt|im moment|aktuell|vor)|aktuell (leider )?(kein|null) thema|"
            r"(derzeit|momentan|zurzeit|gerade) (leider )?(nicht|kein)|nächste[sn]? (jahr|quartal)|"
            r"(melden|kommen) sie (sich )?.{0,30}(später|nochmal|wieder|danach)|mitten in|"
            r"keine (zeit|kapazität)|(pas|plus) (le bon )?moment|pas maintenant|plus tard|"
            r"l'année prochaine|prochain trimestre|le timing|mauvais moment|pour l'instant|"
            r"débordés?|surchargés?|más adelante|en este momento no|ahora (mismo )?no|"
            r"no es (el )?(buen )?momento|el año que viene|(el )?próximo (año|trimestre)|en pleno|"
            r"(primer|segundo) semestre",
            re.I,
        ),
    ),
    (
        "authority",
        re.compile(
            r"my (boss|manager|ceo|cfo|coo|md|owner|superiors?|line manager)\b|"
            r"(needs?|need to get|requires?|have to get|would need|get) (the )?(approval|sign[- ]off|"
            r"signed off|approved|the green light)|sign[- ]off (from|by)|signs? off on|"
            r"(gets|get|be) signed (here )?without|(has|have|needs?|would have) to (be approved|be "
            r"signed off|approve|sign off|go through|be validated|be cleared|be run past)|"
            r"approved by|(go|goes|went|has to go) through (the |our )?(board|procurement|committee|cfo|"
            r"ceo|legal|finance|corporate|head office|tender|her\b|him\b)|"
            r"procurement (process|board|team|department|rules)|\btender|"
            r"not (my|mine) (decision|call|to decide|to make)|(isn'?t|is not) (my|mine) (decision|call)|"
            r"\bnot the one who|(can'?t|cannot|can not|couldn'?t|unable to) (decide|sign|approve|commit)"
            r"( anything| this| that)?( alone| on my own| myself| by myself| without)|"
            r"(board|committee|council|corporate|head office|management)'?s? (call|decision|approval)|"
            r"\b(steering |investment |buying )?committee|"
            r"(run|take|bring) (it|this) (past|to|by) (my|our|the) (boss|board|cfo|ceo|director|"
            r"partners?|team|manager)|(bring|loop in|include|involve) (in )?(our|my) (cfo|ceo|coo|"
            r"controller|financial controller|finance director|boss|director|owner|vp)|"
            r"anything (over|above) \S+ (needs|goes|has|requires)|(corporate|head office|hq|"
            r"headquarters|group|the board) (decides|has to|needs to|approves|signs|makes)|"
            r"(not|isn'?t) up to me|above my pay grade|out of my hands|"
            r"(nicht )?allein(e)? entscheiden|nicht (allein|alleine|selbst) (entscheiden|unterschreiben)|"
            r"freigabe|genehmig|muss (durch|über) (den|die|das)|lenkungsausschuss|gremium|"
            r"(peux|pouvons|puis) (rien )?(signer|décider|valider) seul|doit être validé|"
            r"validation (de|du|par)|comité|ma hiérarchie|pas (ma|mon) (décision|choix)|"
            r"no (puedo|podemos) (decidir|firmar|aprobar)|no depende de mí|(aprobación|visto bueno|"
            r"autorización) (de|del)|tiene que (aprobar|pasar por)|no es mi decisión",
            re.I,
        ),
    ),
    (
        "trust",
        re.compile(
            r"how did you (get|find|obtain)|where did you (get|find|obtain)|where you (got|found)|"
            r"who (sold|gave) you|source of (this|my|the) (data|details|address|information)|"
            r"bought (a|this|my) list|\b(spam|scam|phishing)|\bburn(ed|t)\b|bad experience|"
            r"(got|been) (burned|stung|ripped off)|skeptic|sceptic|\bwary\b|suspicious|"
            r"(don'?t|do not) trust|not comfortable|who else (have you|do you|in \w+ have you)|"
            r"(references?|names|clients?) (i|we) can (check|call|ring|speak|talk)|"
            r"reference (contact|customer|client)|prove (it|that)|proof\b|too good to be true|"
            r"is (this|a human|anyone) (even )?(real|legit|reading)|"
            r"can'?t find (your|you) (company|business|firm|website|anything)|"
            r"(domain|company|website|site) was (only )?(registered|set up|created)|"
            r"(last|previous) (two |three |\d )?(agenc(y|ies)|vendors?|providers?|firms?)\b.{0,80}"
            r"(missed|failed|fell apart|promised|burn|let us down|never|didn'?t)|"
            r"(we'?ve|we have|we) (tried|been through|used|had) (two|three|\d|several|a few|a couple "
            r"of)( \w+){0,3} (agencies|vendors|providers|firms)|"
            r"woher haben sie|wo haben sie\b.{0,30}\b(her|gefunden)|massenmail|unseriös|"
            r"schlechte erfahrung|misstrau|referenzen|où avez-vous (eu|obtenu|trouvé)|"
            r"comment avez-vous (eu|obtenu|trouvé)|arnaque|mauvaise expérience|méfian|"
            r"(de )?dónde (ha |han |has )?(sacado|obtenido|conseguido)|cómo (consiguió|obtuvo|"
            r"consiguieron)|estafa|mala experiencia|desconfi",
            re.I,
        ),
    ),
    (
        "no_need",
        re.compile(
            r"(don'?t|do not|doesn'?t|won'?t|wouldn'?t) (really |actually )?need|no (real )?need|"
            r"needn'?t|no (real )?(use|requirement) for|\b(we|our|ours|us)\b[^.?!]{0,60}\b(in[- ]house|"
            r"internally)\b|(do|handle|manage|"
            r"cover|run) (it|this|that|all (of )?that|everything) ourselves|our own (team|staff|"
            r"people)|not relevant|irrelevant|(doesn'?t|does not) apply|not applicable|"
            r"(we'?re|we are) (good|fine|covered|sorted)|covered|overkill|no gap|"
            r"(don'?t|do not) (have|see) (a|the|any) (need|problem|gap|use)|"
            r"not (something|a problem|an issue) (we|for us)|(nothing|no problem) (to|for you to) "
            r"(fix|solve)|"
            r"brauchen\b.{0,40}\b(nicht|kein)|benötigen\b.{0,40}\bnicht|kein(en)? bedarf|"
            r"nicht (nötig|notwendig|relevant)|(machen|erledigen|lösen|betreuen) (wir|das)\b.{0,30}\bintern\b|"
            r"intern (gelöst|erledigt|betreut|abgedeckt)|hauseigen|inhouse|"
            r"pas (de )?besoin|pas un besoin|aucun besoin|\b(nous|on)\b[^.?!]{0,60}en interne|nous-mêmes|"
            r"ne nous concerne pas|no (lo )?necesitamos|no nos hace falta|(llevamos|hacemos|gestionamos|"
            r"tenemos)\b[^.?!]{0,40}internamente|"
            r"nosotros mismos|equipo propio",
            re.I,
        ),
    ),
]
_NEGATIVE = re.compile(
    r"not interested|no thanks|remove|unsubscribe|stop|don't|annoy|spam|never", re.I
)
_POSITIVE = re.compile(
    r"great|love|sounds good|interested|keen|happy to|let's|yes|perfect|excited", re.I
)


# Wording families the model reads as marks beside the keyword baseline's (they decide nothing
# on their own): who else to talk to, who the sender is not, a yes, a no-more-mail, a time.
_MARK_FAMILIES: list[tuple[str, re.Pattern[str]]] = [
    ("address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    (
        "points_to",
        re.compile(
            r"\b(try|ask|contact|email|write to|reach out to|speak (to|with)|talk (to|with)|direct "
            r"(this|it|your \w+) to|forward(ed|ing)? (this|it|your \w+)( on)? to|cc'?(ing|d)?|"
            r"copied|looping|loop in|in copy)\b|\b(he|she|they) (handles?|looks? after|runs?|heads?|"
            r"leads?|manages?|decides?|is responsible)\b|\b(handles|looks after|is responsible for|"
            r"has taken (that|this|it|over)|taking over|is the (one|person))\b|"
            r"weitergeleitet|in kopie|zuständig|wenden sie sich|sprechen sie mit|müssten sie mit|"
            r"en copie|je transfère|adressez-vous|collègue|hablar con|debe hablar|le he reenviado|"
            r"compañer[oa]|encargad[oa]",
            re.I,
        ),
    ),
    (
        "not_me",
        re.compile(
            r"\b(i'?m|i am) (just |only |actually |not |no longer |a |an |the )|\bnot (me|the one|"
            r"the right|my (area|department|role|job|work))\b|nothing (whatsoever )?to do with|"
            r"no involvement|not (related|relevant) to (my|me)|\b(wrong|different) (person|\w+ i'?m "
            r"afraid)|\bwrong [A-Z]\w+|moved (out of|across|to|on)|last day|no longer (work|with|at|"
            r"look after|in|handle)|\b(left|leaving|wrapped up at)\b|there'?s no \w+ (person|here)|"
            r"don'?t (handle|deal with|look after)|nicht (die|der) richtige|nicht zuständig|"
            r"pas la bonne personne|ne suis pas|no soy la persona|no soy (el|la) indicad[oa]",
            re.I,
        ),
    ),
    (
        "yes",
        re.compile(
            r"\b(yes|yep|yeah|sure|keen|happy to|count (me|us) in|i'?m in|go ahead|let'?s do it|"
            r"put (me|us) down|sign (me|us) up|sounds (good|great|interesting)|interested|interesting|"
            r"next steps?|what'?s next|keep me (in the loop|posted)|go on|get this going|"
            r"looking forward)\b|klingt (gut|interessant|genau)|bin dabei|legen sie los|gerne|"
            r"halten sie mich|suena (muy )?bien|adelante|contad conmigo|avanzar|siguientes pasos|"
            r"me interesa|partant|intéress|tenez-moi au courant|dites-moi comment|oui\b",
            re.I,
        ),
    ),
    (
        "no_more_mail",
        re.compile(
            r"remove (me|my|us|this)|take (me|us) off|(don'?t|do not|never) (email|contact|write "
            r"to|message) (me|us)|stop (emailing|contacting|sending|writing)|(my|mis) (data|datos|"
            r"daten|données)|gdpr|rgpd|dsgvo|löschen|verteiler|austragen|supprimer|suppression|"
            r"eliminen|supresión|no (vuelvan|me) (a )?contact|mailing list|your list",
            re.I,
        ),
    ),
    (
        "time",
        re.compile(
            r"\b(mon|tues?|wed|thu(rs)?|fri)(day)?\b|\b\d{1,2}(:\d\d)?\s*(am|pm|uhr|h)\b|"
            r"\b(tomorrow|next week|this week)\b|\b(call|meeting|demo|zoom|meet|invite|calendar|"
            r"slot|session)\b|montag|dienstag|mittwoch|donnerstag|freitag|telefon|termin|lundi|"
            r"mardi|mercredi|jeudi|vendredi|créneau|échange|lunes|martes|miércoles|jueves|viernes|"
            r"llamada|reunión",
            re.I,
        ),
    ),
    (
        "no",
        re.compile(
            r"\b(no|not|never|nope|won'?t|don'?t|isn'?t|aren'?t)\b|\b(kein|nicht)\b|\b(pas|non)\b",
            re.I,
        ),
    ),
]


# Interest said to be absent ("not interested", "kein Interesse"): the positive families must
# not read it as a yes.
_NEGATED_INTEREST = re.compile(
    r"(\bnot|n't|\bnever|\bno longer|\bhardly)( (really|very|that|too|at all|particularly|currently|"
    r"remotely|even))* (interested|interesting|keen)\b|\bno interest\b|\bnot for us\b|"
    r"kein(e|en)? interesse|nicht interessiert|nicht interessant|pas intéressée?s?|"
    r"pas d'intérêt|ne (nous|m')intéresse pas|no (nos |me )?interesa|no estamos interesad[oa]s|"
    r"sin interés",
    re.I,
)
_POSITIVE_FAMILIES = {"interested", "yes"}


def keyword_marks(subject: str, text: str) -> list[str]:
    """Every keyword family that matches, as a mark (`__kw_referral__`, `__ob_pricing__`, ...)
    the model reads beside the words."""
    affirmed = _NEGATED_INTEREST.sub(" ", text)

    def found(name: str, pattern: re.Pattern[str]) -> bool:
        return bool(pattern.search(affirmed if name in _POSITIVE_FAMILIES else text))

    marks = [f"__kw_{intent}__" for intent, pattern in _BASELINE_INTENTS if found(intent, pattern)]
    marks += [f"__ob_{name}__" for name, pattern in _BASELINE_OBJECTIONS if pattern.search(text)]
    marks += [f"__mk_{name}__" for name, pattern in _MARK_FAMILIES if found(name, pattern)]
    if "?" in text:
        marks.append("__question__")
    return marks


def baseline_intent(text: str) -> str:
    for intent, pattern in _BASELINE_INTENTS:
        if pattern.search(text):
            return intent
    return "not_interested"


def baseline_objection(text: str) -> str:
    """The objection whose wording comes first: the one the sender stresses, mostly."""
    found = [
        (match.start(), objection)
        for objection, pattern in _BASELINE_OBJECTIONS
        if (match := pattern.search(text))
    ]
    return min(found)[1] if found else "none"


def baseline_sentiment(intent: str, text: str) -> str:
    if intent in {"bounce", "out_of_office", "auto_reply", "referral", "wrong_person"}:
        return "neutral"
    if intent in {"not_interested", "unsubscribe"} or _NEGATIVE.search(text):
        return "negative"
    if intent in {"meeting_request", "interested"} or _POSITIVE.search(text):
        return "positive"
    return "neutral"
