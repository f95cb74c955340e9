"""Splitting a reply: the new text apart from quotes, signatures, footers and HTML."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from detectors.replies import extract
from detectors.replies.text import split_reply

QUOTED_GMAIL = (
    "Thursday 2pm works for me.\n\nBest,\nDana\nVP Ops | Fieldway\n\n"
    "On Tue, 3 Mar 2026 at 09:14, Sam Ortiz <sam@brightlane.io> wrote:\n"
    "> Hi Dana,\n> Worth a quick chat next week?\n> Sam\n"
)
QUOTED_OUTLOOK = (
    "Not for us, thanks.\n\n"
    "From: Sam Ortiz <sam@brightlane.io>\nSent: Tuesday, March 3, 2026 9:14 AM\n"
    "To: Dana Reyes <dana@fieldway.com>\nSubject: Outbound for Fieldway\n\n"
    "Hi Dana, would you be open to a call?\n"
)
QUOTED_GERMAN = (
    "Kein Interesse, danke.\n\nMit freundlichen Grüßen\nM. Keller\n\n"
    "Am 03.03.2026 um 09:14 schrieb Sam Ortiz <sam@brightlane.io>:\n> Haben Sie Zeit?\n"
)
GMAIL_HTML = (
    '<div dir="ltr">Sounds good. Can you send pricing?<br><br>Jo</div>'
    '<div class="gmail_quote"><div class="gmail_attr">On Mon, Sam wrote:</div>'
    '<blockquote class="gmail_quote">Would a call on Friday work?</blockquote></div>'
)


def test_the_quote_and_signature_are_set_apart() -> None:
    parts = split_reply(QUOTED_GMAIL)
    assert parts.new_text == "Thursday 2pm works for me."
    assert "Worth a quick chat" in parts.quoted
    assert extract.questions(parts.new_text) == []


def test_an_outlook_header_block_ends_the_new_text() -> None:
    assert split_reply(QUOTED_OUTLOOK).new_text == "Not for us, thanks."


def test_a_german_quote_header_and_sign_off() -> None:
    assert split_reply(QUOTED_GERMAN).new_text == "Kein Interesse, danke."


def test_html_quotes_are_dropped_and_questions_kept() -> None:
    parts = split_reply(GMAIL_HTML, "html")
    assert "Friday" not in parts.new_text
    assert extract.questions(parts.new_text) == ["Can you send pricing?"]


def test_inline_answers_between_quoted_lines_are_new_text() -> None:
    body = (
        "Answers below.\n\nOn Tue, 3 Mar 2026 at 09:14, Sam <sam@x.io> wrote:\n"
        "> Do you run outbound today?\nNo, never have.\n> Would Friday work?\nYes, 10am.\n> Sam\n"
    )
    new_text = split_reply(body).new_text
    assert "No, never have." in new_text and "Yes, 10am." in new_text
    assert "Would Friday work" not in new_text


def test_hostile_bodies_do_not_break_the_split() -> None:
    assert split_reply(None).new_text == ""
    assert split_reply("").new_text == ""
    assert split_reply("> only\n> a quote\n").new_text == ""
    huge = "<html><body>" + "<div>" * 50_000 + "Call me." + "</div>" * 50_000 + "</body></html>"
    assert len(huge) > 500_000
    split_reply(huge, "html")
    assert "\ufffd" in split_reply("caf\ufffd \udce9 ok", None).new_text


def test_questions_are_copied_verbatim() -> None:
    text = "Thanks. What does it cost? ¿Tienen clientes en México? We use Hubspot."
    assert extract.questions(text) == ["What does it cost?", "¿Tienen clientes en México?"]


def test_referral_addresses_skip_the_sender_and_machines() -> None:
    text = "Write to jana.novak@acme.cz, not me (petr@acme.cz) or noreply@acme.cz."
    assert extract.emails(text, exclude="petr@acme.cz") == ["jana.novak@acme.cz"]


RECEIVED = datetime(2026, 12, 18, 9, 0, tzinfo=timezone(timedelta(hours=1)))


def test_return_dates_in_four_languages() -> None:
    cases = [
        ("I am out of the office and back on 5 January.", "en", date(2027, 1, 5)),
        ("I'm away through January 4th.", "en", date(2027, 1, 5)),
        ("I will be back in the office on Monday.", "en", date(2026, 12, 21)),
        ("Ich bin bis einschließlich 12.01.2027 nicht im Büro.", "de", date(2027, 1, 13)),
        ("Je suis absente jusqu'au 5 janvier inclus.", "fr", date(2027, 1, 6)),
        ("Estaré fuera de la oficina hasta el 7 de enero.", "es", date(2027, 1, 8)),
        ("I am on leave with limited access to email.", "en", None),
    ]
    for text, language, expected in cases:
        assert extract.return_date(text, RECEIVED, language) == expected, text
