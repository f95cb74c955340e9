"""The fields the analyzer copies out of the new text: questions, the address a reply points to,
and the date an absence notice gives for the sender's return."""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, timedelta

_QUESTION = re.compile(r"[^.!?\n]*\?+(?=[\s\"'”»)\]]|$)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_MACHINE_SENDER = re.compile(r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster)", re.I)

# "until the 12th" and its siblings name the last day away, "back on the 12th" the first day in.
_UNTIL = r"until|till|through|thru|up to and including|bis( einschließlich| zum| am)?|jusqu'(au|à)|hasta( el)?"
_BACK = (
    r"back|return(ing)?|returns|in the office|wieder( im büro| erreichbar| da)?|zurück|"
    r"de retour|retour|vuelvo|regreso|regresaré|volveré|estaré de vuelta"
)
_RETURN_CUE = re.compile(rf"\b(?P<until>{_UNTIL})\b|\b(?P<back>{_BACK})\b", re.IGNORECASE)
_INCLUSIVE = re.compile(r"inclus|einschließlich|incluido|inclusive", re.IGNORECASE)
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            "monday montag lundi lunes",
            "tuesday dienstag mardi martes",
            "wednesday mittwoch mercredi miércoles miercoles",
            "thursday donnerstag jeudi jueves",
            "friday freitag vendredi viernes",
            "saturday samstag samedi sábado sabado",
            "sunday sonntag dimanche domingo",
        ]
    )
    for name in names.split()
}
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b(?!\s*,?\s*\d)", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b")


def questions(new_text: str) -> list[str]:
    """Every sentence of the new text that ends with a question mark, as written."""
    found = []
    for match in _QUESTION.finditer(new_text):
        sentence = match.group().strip()
        if len(sentence) > 1 and "://" not in sentence and not re.search(r"\S/\?", sentence):
            found.append(sentence)
    return found


def emails(text: str, exclude: str | None = None) -> list[str]:
    own = (exclude or "").strip().lower()
    seen: list[str] = []
    for address in _EMAIL.findall(text):
        address = address.strip(".'")
        lowered = address.lower()
        if lowered == own or _MACHINE_SENDER.match(lowered) or lowered in map(str.lower, seen):
            continue
        seen.append(address)
    return seen


def _numeric_date(text: str, base: datetime, day_first: bool) -> date | None:
    match = _NUMERIC_DATE.search(text)
    if not match:
        return None
    first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
    day, month = (first, second) if day_first or first > 12 else (second, first)
    try:
        if year:
            number = int(year)
            return date(number + 2000 if number < 100 else number, month, day)
        guess = date(base.year, month, day)
    except ValueError:
        return None
    return guess if guess >= base.date() - timedelta(days=7) else guess.replace(year=base.year + 1)


def _last_day_away(cue: re.Match[str], window: str, language: str | None) -> bool:
    """Whether the date names the last day away ("bis einschließlich 12.01.", "through the 9th")
    rather than the first day back; English "until" is read as the day back."""
    if cue.group("back"):
        return bool(_INCLUSIVE.search(window))
    word = cue.group("until").lower()
    if word.startswith(("through", "thru", "up to")) or _INCLUSIVE.search(window):
        return True
    return language in {"de", "es", "fr"} or not word.startswith(("until", "till"))


def return_date(new_text: str, received_at: datetime | None, language: str | None) -> date | None:
    """The first day the sender is back, from the sentence that says so; None when no date."""
    import dateparser.search

    base = (received_at or datetime.now()).replace(tzinfo=None)
    languages = [language] if language in {"de", "es", "fr"} else ["en", "de", "es", "fr"]
    for cue in _RETURN_CUE.finditer(new_text):
        window = new_text[cue.start() : cue.start() + 90].split("\n")[0]
        after_cue = window[len(cue.group()) :]
        found = _numeric_date(after_cue, base, day_first=language != "en" or "/" not in after_cue)
        weekday = _WEEKDAY.search(after_cue)
        if found is None and weekday and not re.search(r"\d", after_cue[: weekday.start()]):
            ahead = (_WEEKDAYS[weekday.group(1).lower()] - base.weekday() - 1) % 7 + 1
            found = base.date() + timedelta(days=ahead)
        if found is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hits = dateparser.search.search_dates(
                    after_cue,
                    languages=languages,
                    settings={
                        "RELATIVE_BASE": base,
                        "PREFER_DATES_FROM": "future",
                        "REQUIRE_PARTS": ["day"],
                    },
                )
            found = hits[0][1].date() if hits else None
        if found is None:
            continue
        if found < base.date():
            try:
                found = found.replace(year=found.year + 1)
            except ValueError:
                continue
        if _last_day_away(cue, window, language):
            found += timedelta(days=1)
        return found
    return None
