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
_BASELINE_OBJECTIONS: list[tuple[str, re.Pattern[str]]] = [
    (
        "pricing",
        re.compile(
            r"price|pricing|expensive|cost|budget|afford|preis|budget|prix|precio|presupuesto|coût",
            re.I,
        ),
    ),
    (
        "competitor",
        re.compile(
            r"already (use|using|have|work with)|signed with|our (current )?(vendor|provider|agency)|switch",
            re.I,
        ),
    ),
    (
        "timing",
        re.compile(
            r"not now|next (year|quarter|month)|\bq[1-4]\b|later this year|timing|busy|after the|nächstes jahr|plus tard|más adelante",
            re.I,
        ),
    ),
    (
        "authority",
        re.compile(
            r"my (boss|manager|ceo|cfo)|sign[- ]off|approv|procurement|board|not my decision|decision",
            re.I,
        ),
    ),
    (
        "trust",
        re.compile(
            r"how did you get|where did you get|spam|scam|burned|burnt|skeptic|sceptic|references|prove",
            re.I,
        ),
    ),
    (
        "no_need",
        re.compile(
            r"don'?t need|no need|in[- ]house|not relevant|covered|brauchen (wir )?kein|pas besoin|no necesitamos",
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
    both = f"{subject}\n{text}"
    marks += [f"__ob_{name}__" for name, pattern in _BASELINE_OBJECTIONS if pattern.search(both)]
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
    for objection, pattern in _BASELINE_OBJECTIONS:
        if pattern.search(text):
            return objection
    return "none"


def baseline_sentiment(intent: str, text: str) -> str:
    if intent in {"bounce", "out_of_office", "auto_reply", "referral", "wrong_person"}:
        return "neutral"
    if intent in {"not_interested", "unsubscribe"} or _NEGATIVE.search(text):
        return "negative"
    if intent in {"meeting_request", "interested"} or _POSITIVE.search(text):
        return "positive"
    return "neutral"
