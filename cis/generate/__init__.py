"""Deterministic demo data: a landing folder of Apollo ``people/match`` pulls.

``generate_landing`` writes ``<out>/apollo/people/<YYYY-MM-DD>T<HHMMSS>Z-pull-<NNN>.jsonl`` files,
one person object per line, with the messy cases a real pool has: job changes seen by a later
re-pull, an older and a newer record of one Apollo id in the same file (in either order),
duplicate Apollo records of one person, LinkedIn-only leads, fields the loader does not know
and, if asked, bad lines and a file that is not JSON Lines. The same arguments always give the
same bytes. People are streamed: memory holds one integer per organisation, the new emails of
job changers and a few lines waiting for their place in the current file, nothing per person.

Which of two records of one Apollo id is newer is decidable from the records alone, never from
file names: the newer one's latest ``employment_history[].created_at``/``updated_at`` is
strictly later than every such stamp of the older one (``apollo_people.latest_stamp``). Every
record's top-level ``title`` and ``organization`` are those of its current role, and that
role's ``start_date`` is not after the record's latest stamp.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cis.generate.apollo_people import Universe, rng_for
from cis.generate.distributions import pick, randint

if TYPE_CHECKING:
    from cis.clients import Client
    from cis.generate.events import EventsSummary

__all__ = [
    "BAD_KINDS",
    "DEFAULT_START",
    "GenerateSummary",
    "Shares",
    "generate_landing",
    "parse_pull_time",
    "pull_file_name",
]

DEFAULT_START = datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)
PEOPLE_DIR = Path("apollo") / "people"
REPULL_AFTER = timedelta(days=30)
BAD_KINDS = ("not_json", "not_object", "invalid_email", "unknown_seniority", "missing_id")
CORRUPT_KIND = "corrupt_file"
UNKNOWN_SENIORITIES = ("galactic_overlord", "board_observer", "chief_of_vibes")

# The messy case of a person, decided by Universe.kind_share.
NORMAL, JOB_CHANGE, SECOND_ID, NO_EMAIL, UNKNOWN_FIELDS, SAME_REPULL, SAME_FILE = range(7)
# Other lines between the two records of a same-file repeat (fewer at the end of a file).
SAME_FILE_GAP = (1, 9)


@dataclass(frozen=True)
class Shares:
    """Shares of ``leads`` that get each messy case (disjoint), and of bad lines."""

    job_change: float = 0.05  # re-pulled later with a new title and/or company
    second_id: float = 0.02  # a second Apollo id with the same email
    missing_email: float = 0.08  # no email, LinkedIn URL only
    unknown_fields: float = 0.01  # a top-level field the loader does not know
    unchanged_repull: float = 0.03  # re-pulled later with nothing changed
    same_file_repeat: float = 0.03  # an older and a newer record of one id in one first pull
    bad: float = 0.002  # bad lines (at least one of each kind when bad records are on)

    def __post_init__(self) -> None:
        parts = (
            self.job_change,
            self.second_id,
            self.missing_email,
            self.unknown_fields,
            self.unchanged_repull,
            self.same_file_repeat,
        )
        if any(p < 0 for p in (*parts, self.bad)) or sum(parts) > 1:
            raise ValueError("shares must be >= 0 and the person shares must sum to <= 1")


@dataclass(frozen=True)
class GenerateSummary:
    """What ``generate_landing`` wrote.

    Attributes
    ----------
    people_lines : int
        Good person lines in all files (first pulls, duplicates and re-pulls).
    distinct_people : int
        Real people (``leads``); a second Apollo id of one person is not a new person.
    organizations : int
        Organisations in the universe (shared by many people).
    repulls : int
        Apollo ids pulled again in the re-pull file with a changed title and/or organisation.
    unchanged_repulls : int
        Apollo ids pulled again with nothing changed.
    same_file_repeats : int
        Apollo ids written twice in one first-pull file: an older record and a newer one (new
        title and/or organisation), a few lines apart. The newer record's latest
        ``employment_history[].created_at``/``updated_at`` is strictly later than all of the
        older record's.
    older_first : int
        Same-file repeats whose older record comes first in the file.
    older_second : int
        Same-file repeats whose newer record comes first (``older_first + older_second ==
        same_file_repeats``).
    second_ids : int
        Emails that appear under a second Apollo id.
    missing_emails : int
        Good lines with ``email`` null (LinkedIn-only leads).
    unknown_field_records : int
        Good lines with a person- or organisation-level field outside the contract.
    bad_lines : dict[str, int]
        Bad lines by kind: ``not_json``, ``not_object``, ``invalid_email``,
        ``unknown_seniority``, ``missing_id``, and ``corrupt_file`` (lines of the file that is
        not JSON Lines).
    files : list[str]
        Written files, relative to the output folder, sorted.
    """

    people_lines: int
    distinct_people: int
    organizations: int
    repulls: int
    unchanged_repulls: int
    same_file_repeats: int
    older_first: int
    older_second: int
    second_ids: int
    missing_emails: int
    unknown_field_records: int
    bad_lines: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    events: EventsSummary | None = None  # vendor events, when asked for (``events=True``)

    @property
    def bad_lines_total(self) -> int:
        """All bad lines, of every kind."""
        return sum(self.bad_lines.values())


def pull_file_name(pulled_at: datetime, number: int, suffix: str = "") -> str:
    """``2025-01-06T090000Z-pull-001.jsonl``: the leading timestamp is the pull time (UTC)."""
    return f"{pulled_at.strftime('%Y-%m-%dT%H%M%SZ')}-pull-{number:03d}{suffix}.jsonl"


def parse_pull_time(name: str) -> datetime:
    """The pull time a file name starts with (inverse of :func:`pull_file_name`)."""
    return datetime.strptime(name[:18], "%Y-%m-%dT%H%M%SZ").replace(tzinfo=UTC)


class _Counts:
    def __init__(self) -> None:
        self.people_lines = 0
        self.repulls = 0
        self.unchanged_repulls = 0
        self.same_file_repeats = 0
        self.older_first = 0
        self.second_ids = 0
        self.missing_emails = 0
        self.unknown = 0
        self.bad = dict.fromkeys((*BAD_KINDS, CORRUPT_KIND), 0)

    def person(self, person: dict[str, Any]) -> str:
        self.people_lines += 1
        if person["email"] is None:
            self.missing_emails += 1
        if "buying_committee_role" in person or "ai_readiness_score" in person["organization"]:
            self.unknown += 1
        return _dumps(person)


class _RotatingWriter:
    """Writes lines into pull files of at most ``per_file`` lines, each atomically renamed.

    A line can be deferred (:meth:`defer`) to a few lines later; it still goes to the current
    file, whose room counts the deferred lines, and is written at its end if that comes first.
    """

    def __init__(self, folder: Path, per_file: int, times: Iterator[datetime]) -> None:
        self.folder = folder
        self.per_file = per_file
        self.times = times
        self.number = 0
        self.lines = 0
        self.pulled_at: datetime | None = None  # pull time of the current file
        self.handle: IO[str] | None = None
        self.tmp: Path | None = None
        self.final: Path | None = None
        self.written: list[Path] = []
        self.deferred: list[tuple[int, str]] = []  # (line count that releases it, line)

    def room(self) -> int:
        """Lines the current file can still take (0 when no file is open)."""
        if self.handle is None:
            return 0
        return self.per_file - self.lines - len(self.deferred)

    def file_for(self, lines: int) -> datetime:
        """Make the next ``lines`` lines fit in one file (rotating if needed); its pull time."""
        if self.room() < min(lines, self.per_file):
            self._rotate()
        assert self.pulled_at is not None
        return self.pulled_at

    def write(self, line: str) -> None:
        if self.room() < 1:
            self._rotate()
        self._put(line)

    def defer(self, line: str, after: int) -> None:
        """Write ``line`` after ``after`` more lines, in the current file (room must allow)."""
        assert self.room() >= 1
        due = self.lines + after
        at = len(self.deferred)
        while at and self.deferred[at - 1][0] > due:
            at -= 1
        self.deferred.insert(at, (due, line))

    def _put(self, line: str) -> None:
        assert self.handle is not None
        self.handle.write(line)
        self.handle.write("\n")
        self.lines += 1
        while self.deferred and self.deferred[0][0] <= self.lines:
            self._put(self.deferred.pop(0)[1])

    def _flush_deferred(self) -> None:
        while self.deferred:
            self._put(self.deferred.pop(0)[1])

    def _rotate(self) -> None:
        self.close()
        self.number += 1
        self.pulled_at = next(self.times)
        self._open(pull_file_name(self.pulled_at, self.number))

    def write_raw(self, text: str) -> None:
        assert self.handle is not None
        self.handle.write(text)

    def _open(self, name: str) -> None:
        self.final = self.folder / name
        self.tmp = self.folder / f".{name}.tmp"
        # Closed in close(): the writer keeps one file open across many write() calls.
        self.handle = open(self.tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20)  # noqa: SIM115
        self.lines = 0

    def open_named(self, name: str) -> None:
        self.close()
        self._open(name)

    def close(self) -> None:
        if self.handle is not None and self.tmp is not None and self.final is not None:
            self._flush_deferred()
            self.handle.close()
            os.replace(self.tmp, self.final)
            self.written.append(self.final)
        self.handle = None


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _pull_times(start: datetime) -> Iterator[datetime]:
    n = 0
    while True:
        yield start + timedelta(days=n, minutes=17 * n)
        n += 1


def _bad_positions(leads: int, count: int) -> dict[int, list[int]]:
    """Bad line ``t`` goes after the person at an evenly spread position of the pull stream."""
    spots: dict[int, list[int]] = {}
    for t in range(count):
        spots.setdefault(int((t + 0.5) * leads / count), []).append(t)
    return spots


def _bad_line(u: Universe, t: int, position: int) -> tuple[str, str]:
    """Bad line number ``t``: its kind and its text."""
    kind = BAD_KINDS[t % len(BAD_KINDS)]
    rng = rng_for(u.seed, "bad-line", t)
    person = u.bad_person(t, position)
    if kind == "not_json":
        text = _dumps(person)
        return kind, text[: int(len(text) * (0.2 + 0.6 * rng.random()))]
    if kind == "not_object":
        if t % 2:
            return kind, _dumps("rate limit exceeded, retry later")
        return kind, _dumps([person])
    if kind == "invalid_email":
        person["email"] = f"{person['first_name'].lower()}.{person['last_name'].lower()}(at)example"
    elif kind == "unknown_seniority":
        person["seniority"] = pick(rng, UNKNOWN_SENIORITIES)
    else:
        del person["id"]
    return kind, _dumps(person)


def _corrupt_lines(u: Universe) -> list[bytes]:
    """A CSV export in Windows-1252 saved under a pull file name: no line is JSON or UTF-8."""
    rng = rng_for(u.seed, "corrupt")
    rows = ["id,first_name,last_name,email,title,company"]
    for r in range(randint(rng, 3, 6)):
        p = u.bad_person(10_000_000 + r, int(rng.random() * u.leads))
        rows.append(
            ",".join(
                str(v).replace(",", " ")
                for v in (
                    p["id"],
                    p["first_name"],
                    p["last_name"],
                    p["email"],
                    p["title"],
                    p["organization"]["name"],
                )
            )
        )
    rows.append("n/a,Zoë,Müller,zoe.muller(at)example,Geschäftsführer,Köln Spedition GmbH")
    lines = [row.encode("cp1252", errors="replace") + b"\r\n" for row in rows]
    lines.append(b"\x00\x00\xff\xfePK\x03\x04 garbage after a failed export\n")
    return lines


def _write_same_file_repeat(u: Universe, i: int, writer: _RotatingWriter, counts: _Counts) -> None:
    """Person ``i`` twice in the current file: the older record and, a few lines away, the newer.

    The newer record is a job change (new title and/or organisation and email) made between
    the older record's latest stamp and the file's pull time, so it is newer by its own stamps.
    Repeats alternate: the first, third, ... write the older record first, the others the
    newer one. The file is rotated first unless it has room for both records and one more line
    (``lines_per_file`` >= 3), so the second record is never the next line unless nothing else
    is left to write.
    """
    pulled_at = writer.file_for(3)
    older = u.person(i)
    newer = u.job_change(i, older, pulled_at)
    older_first = counts.same_file_repeats % 2 == 0
    counts.same_file_repeats += 1
    counts.older_first += older_first
    first, second = (older, newer) if older_first else (newer, older)
    writer.write(counts.person(first))
    writer.defer(counts.person(second), randint(rng_for(u.seed, "same-file", i), *SAME_FILE_GAP))


def generate_landing(
    out_dir: Path,
    leads: int,
    seed: int,
    *,
    start: datetime | None = None,
    bad_records: bool = True,
    lines_per_file: int = 50_000,
    shares: Shares | None = None,
    events: bool = False,
    clients: list[Client] | None = None,
    event_count: int | None = None,
    truth: Path | None = None,
) -> GenerateSummary:
    """Write a landing folder of Apollo person pulls for ``leads`` people.

    Parameters
    ----------
    out_dir : Path
        The landing folder; files go to ``out_dir/apollo/people/``. Files of the same names
        are replaced (atomically); other files there are left alone.
    leads : int
        Distinct real people (>= 1).
    seed : int
        Seed of everything: the same arguments give byte-identical files.
    start : datetime, optional
        Time of the first pull (default 2025-01-06T09:00:00Z; a naive value is read as UTC).
        Later first pulls follow one day apart; the re-pull file is dated at least 30 days
        after the first.
    bad_records : bool
        Also write bad lines (not JSON, not an object, invalid email, unknown seniority,
        missing id) and one file that is not JSON Lines.
    lines_per_file : int
        Most lines per first-pull file. Both records of a same-file repeat always land in one
        file, so a file may end up to two lines short; with ``lines_per_file`` 1 there are no
        same-file repeats.
    shares : Shares, optional
        Shares of the messy cases (defaults: :class:`Shares`).
    events : bool
        Also write the vendor events of these people (:func:`cis.generate.events.generate_events`:
        Smartlead, Salesforge, HeyReach and Twilio in the campaigns of ``clients``). The Apollo
        files are the same bytes either way.
    clients : list[Client], optional
        Clients whose campaigns the events use (default: ``config/clients.yml``).
    event_count : int, optional
        Stop the events once at least this many lines are written (default: everyone once).
    truth : Path, optional
        Write the planted opens, clicks (machine or human) and replies to this file (outside
        the landing folder): the truth the machine flags and reply attribution are measured
        against.

    Returns
    -------
    GenerateSummary
        Counts of what was written, and the file names.
    """
    if leads < 1:
        raise ValueError("leads must be at least 1")
    if lines_per_file < 1:
        raise ValueError("lines_per_file must be at least 1")
    start = start or DEFAULT_START
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)  # a naive start is read as UTC
    start = start.astimezone(UTC).replace(microsecond=0)
    shares = shares or Shares()
    folder = Path(out_dir) / PEOPLE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    u = Universe(seed, leads, start)
    bounds = []
    total = 0.0
    for share in (
        shares.job_change,
        shares.second_id,
        shares.missing_email,
        shares.unknown_fields,
        shares.unchanged_repull,
        shares.same_file_repeat if lines_per_file > 1 else 0.0,
    ):
        total += share
        bounds.append(total)

    def kind_of(i: int) -> int:
        x = u.kind_share(i)
        for k, bound in enumerate(bounds, start=1):
            if x < bound:
                return k
        return NORMAL

    bad_count = max(len(BAD_KINDS), round(shares.bad * leads)) if bad_records else 0
    bad_at = _bad_positions(leads, bad_count) if bad_count else {}
    counts = _Counts()
    first_pulls = _RotatingWriter(folder, lines_per_file, _pull_times(start))
    shift = leads // 2 + 1  # a second id is written about half the stream after the first
    for m in range(leads):
        i = u.index_at(m)
        kind = kind_of(i)
        if kind == SAME_FILE:
            _write_same_file_repeat(u, i, first_pulls, counts)
        else:
            first_pulls.write(
                counts.person(
                    u.person(i, unknown_field=kind == UNKNOWN_FIELDS, email=kind != NO_EMAIL)
                )
            )
        i2 = u.index_at((m - shift) % leads)
        if kind_of(i2) == SECOND_ID:
            counts.second_ids += 1
            first_pulls.write(counts.person(u.second_record(i2, u.person(i2))))
        for t in bad_at.get(m, ()):
            bad_kind, text = _bad_line(u, t, m)
            counts.bad[bad_kind] += 1
            first_pulls.write(text)
    first_pulls.close()
    last_first = parse_pull_time(first_pulls.written[-1].name)

    repulled_at = max(start + REPULL_AFTER, last_first + timedelta(days=1))
    repull = _RotatingWriter(folder, 10**12, iter([repulled_at]))
    repull.number = first_pulls.number
    for m in range(leads):
        i = u.index_at(m)
        kind = kind_of(i)
        if kind == JOB_CHANGE:
            counts.repulls += 1
            repull.write(counts.person(u.job_change(i, u.person(i), repulled_at)))
        elif kind == SAME_REPULL:
            counts.unchanged_repulls += 1
            repull.write(counts.person(u.person(i)))
    if bad_records:
        # The writer of the re-pull crashed: its last line is cut short, with no newline.
        if repull.handle is None:
            repull.open_named(pull_file_name(repulled_at, repull.number + 1))
        text = _dumps(u.bad_person(bad_count, leads - 1))
        repull.write_raw(text[: len(text) // 2])
        counts.bad["not_json"] += 1
    repull.close()

    written = first_pulls.written + repull.written
    if bad_records:
        corrupt = folder / pull_file_name(start + timedelta(hours=2), 999, "-corrupt")
        lines = _corrupt_lines(u)
        tmp = corrupt.with_name(f".{corrupt.name}.tmp")
        tmp.write_bytes(b"".join(lines))
        os.replace(tmp, corrupt)
        counts.bad[CORRUPT_KIND] = len(lines)
        written.append(corrupt)
    events_summary = None
    if events:
        from cis.generate.events import generate_events

        no_email_low = shares.job_change + shares.second_id
        events_summary = generate_events(
            out_dir,
            leads,
            seed,
            start=start,
            clients=clients,
            no_email=(no_email_low, no_email_low + shares.missing_email),
            events=event_count,
            malformed=bad_records,
            truth=truth,
        )
    return GenerateSummary(
        people_lines=counts.people_lines,
        distinct_people=leads,
        organizations=u.org_count,
        repulls=counts.repulls,
        unchanged_repulls=counts.unchanged_repulls,
        same_file_repeats=counts.same_file_repeats,
        older_first=counts.older_first,
        older_second=counts.same_file_repeats - counts.older_first,
        second_ids=counts.second_ids,
        missing_emails=counts.missing_emails,
        unknown_field_records=counts.unknown,
        bad_lines=counts.bad,
        files=sorted(p.relative_to(out_dir).as_posix() for p in written),
        events=events_summary,
    )
