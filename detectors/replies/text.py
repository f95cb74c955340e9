"""Split a reply into the sender's new text and the rest: HTML, quoted history, forwarded
headers, signatures and legal footers (mail-parser-reply for the quote headers and signatures
of English, German, Spanish and French mail clients; BeautifulSoup for HTML)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from mailparser_reply import EmailReplyParser

LANGUAGES = ["en", "de", "es", "fr"]
MAX_TEXT_CHARS = 50_000
MAX_HTML_CHARS = 150_000
"""Longer bodies are cut before parsing: the new text of a reply is at its top, and a megabyte
of HTML must not stall a batch."""

_PARSER = EmailReplyParser(languages=LANGUAGES)
_HTML_HINT = re.compile(r"<(html|body|div|p|br|table|span|blockquote)\b", re.IGNORECASE)
_QUOTED_LINE = re.compile(r"^\s*>")
_MOBILE_FOOTER = re.compile(
    r"^\s*(sent from my \w+|get outlook for \w+|envoyé de mon \w+|von meinem \w+ gesendet|"
    r"enviado desde mi \w+|sent from (yahoo|mail) for \w+)\b.*$",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_MARK = re.compile(
    r"^-{5,}\s*(forwarded message|original message|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|ursprüngliche nachricht|message d'origine|"
    r"mensaje original)\s*-{5,}\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SIGN_OFF = re.compile(
    r"^\s*(--\s*|__+|(best|kind|warm|many thanks and|with)?\s*(regards|wishes)|best|cheers|thanks|"
    r"thank you|many thanks|thx|ta|rgds|br|sincerely|yours( truly| sincerely)?|all the best|"
    r"mit freundlichen grüßen|freundliche grüße|viele grüße|beste grüße|liebe grüße|grüße|"
    r"mfg|lg|cordialement|bien cordialement|bien à vous|salutations|bonne journée|merci|"
    r"saludos( cordiales)?|un saludo|atentamente|gracias|un abrazo|abrazos)[\s,.!]*$",
    re.IGNORECASE,
)
_FOOTER_START = re.compile(
    r"^\s*(confidential|confidentiality|disclaimer|this (e-?mail|message) (and any|is|may|contains)|"
    r"the information (contained )?in this|please consider the environment|"
    r"diese e-mail enthält|ce message et|este mensaje)",
    re.IGNORECASE,
)
_QUOTE_CLASS = re.compile(r"^(gmail_quote|gmail_extra|yahoo_quoted|moz-cite-prefix)$")
_BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|tr|li|h[1-6]|table)\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyParts:
    """The sender's new text and what was set apart from it."""

    new_text: str
    quoted: str
    plain_body: str


def looks_like_html(body: str) -> bool:
    return bool(_HTML_HINT.search(body[:5000]))


def html_to_text(html: str) -> tuple[str, str]:
    """The visible text of an HTML body, and the text of its quoted parts set apart. Line breaks
    are marked in the markup before parsing, so the work stays linear in the document's size
    however deeply it nests."""
    marked = _BLOCK_END.sub(lambda m: "\n" + m.group(0), html)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(marked, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    quoted: list[str] = []
    for tag in soup.find_all("blockquote"):
        quoted.append(tag.get_text(""))
        tag.decompose()
    for tag in soup.find_all(class_=_QUOTE_CLASS):
        quoted.append(tag.get_text(""))
        tag.decompose()
    return normalise(soup.get_text("")), normalise("\n".join(quoted))


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = re.sub(r"[ \t\u200b\u200c\ufeff]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _inline_answers(after_header: str) -> str:
    """Unquoted lines written between quoted ones (an answer given inline)."""
    lines = after_header.splitlines()
    quoted_at = [i for i, line in enumerate(lines) if _QUOTED_LINE.match(line)]
    if len(quoted_at) < 2:
        return ""
    first, last = quoted_at[0], quoted_at[-1]
    between = [line for line in lines[first:last] if line.strip() and not _QUOTED_LINE.match(line)]
    return "\n".join(between)


def strip_signature(text: str) -> str:
    """The text above the sign-off line ("Best regards,", "Cheers", "--") or a legal footer;
    the whole text when the sign-off would leave nothing."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if i > 0 and (_SIGN_OFF.match(line) or _FOOTER_START.match(line)):
            kept = "\n".join(lines[:i]).strip()
            if kept:
                return kept
    return text


def split_reply(body: str | None, body_format: str | None = None) -> ReplyParts:
    """Never raises: a body that cannot be split is returned whole as new text."""
    raw = body or ""
    html_quoted = ""
    if body_format == "html" or (body_format is None and looks_like_html(raw)):
        raw = raw[:MAX_HTML_CHARS]
        try:
            plain, html_quoted = html_to_text(raw)
        except Exception:  # a broken document still gets classified, as text
            plain = normalise(re.sub(r"<[^>]*>?", " ", raw))
    else:
        plain = normalise(raw[:MAX_TEXT_CHARS])
    forward = _FORWARD_MARK.search(plain)
    top = plain[: forward.start()] if forward else plain
    try:
        message = _PARSER.read(top)
        replies = message.replies
        new_text = replies[0].full_body if replies else top
        rest = "\n".join(reply.full_body for reply in replies[1:])
        if len(replies) > 1:
            inline = _inline_answers(rest)
            if inline:
                new_text = f"{new_text}\n{inline}".strip()
    except Exception:
        new_text, rest = top, ""
    new_lines = [line for line in new_text.splitlines() if not _QUOTED_LINE.match(line)]
    new_text = strip_signature(_MOBILE_FOOTER.sub("", "\n".join(new_lines)).strip())
    quoted = "\n".join(part for part in (rest, plain[len(top) :], html_quoted) if part)
    return ReplyParts(new_text=normalise(new_text), quoted=quoted, plain_body=plain)
