"""Small readers the vendors' ``describe`` functions share."""

from __future__ import annotations

from datetime import datetime

from ingestion.apollo.records import parse_timestamp
from ingestion.events import EventFacts, EventProblem, digest, text_or_none


def dig(body: object, *path: str) -> object:
    """``body[path[0]][path[1]]...``, or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def first_text(body: dict, *paths: tuple[str, ...]) -> str | None:
    """The first of ``paths`` that holds a non-blank scalar, as text."""
    for path in paths:
        if (value := text_or_none(dig(body, *path))) is not None:
            return value
    return None


def event_time(body: dict, *paths: tuple[str, ...]) -> tuple[datetime | None, str | None]:
    """The event's time and the text it was read from, from the first path that has one.

    A value that is present but not an ISO-8601 time is a problem (the line is quarantined): a
    silently missing time would put the event at its receipt instead.
    """
    for path in paths:
        text = text_or_none(dig(body, *path))
        if text is None:
            continue
        parsed = parse_timestamp(text)
        if parsed is None:
            raise EventProblem(f"{'.'.join(path)} is not a timestamp ({text[:40]!r})")
        return parsed, text
    return None, None


def lower_email(value: str | None) -> str | None:
    return value.strip().lower() if value and "@" in value else None


def snapshot_facts(body: dict, kind: str, *time_paths: tuple[str, ...]) -> EventFacts:
    """A snapshot of one vendor object (a campaign, a sequence): keyed by its ``id``, timed by
    the first of ``time_paths`` present; every content seen is a version of that object."""
    object_id = first_text(body, ("id",))
    at, at_text = event_time(body, *time_paths)
    return EventFacts(
        event_key=digest(kind, object_id),
        event_name=kind.split("_", 1)[1],
        campaign_id=object_id,
        occurred_at=at,
        occurred_at_text=at_text,
        version_of=object_id or None,
    )
