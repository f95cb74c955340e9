"""The standalone-CRM CSV reader on the files agencies keep: spreadsheet exports with their own
header spelling, semicolons, a byte-order mark, notes with line breaks, rows appended later,
and the bad rows and files a person makes (no database: what becomes a line or a rejection)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cis.jobs.ingest import LANDING_LOADERS
from ingestion.crm import KINDS
from ingestion.events import event_row
from ingestion.landing import LandingLine, unread_entries
from ingestion.progress import FileProgress, read_slice, unread_slices
from ingestion.quarantine import Rejection

KIND = {k.landing_kind: k for k in KINDS}
LOADED_AT = datetime(2026, 12, 1, tzinfo=UTC)


def _read(root: Path, kind: str, known: dict[str, FileProgress] | None = None) -> tuple:
    lines: list[LandingLine] = []
    rejected: list[Rejection] = []
    slices = unread_slices(root, kind, known or {})
    for piece in slices:
        for item in read_slice(piece, root, KIND[kind].record_kind):
            (rejected if isinstance(item, Rejection) else lines).append(item)
    return lines, rejected, slices


def _write(root: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = root / "crm" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_a_spreadsheet_export_is_read_whatever_its_header_spelling_and_separator(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        "meetings-2026-11.csv",
        "\ufeffMeeting ID;Scheduled For;Contact Email;Outcome;Notes;Lead Source\r\n"
        'm-1;2026-11-03 14:00;Ana@Example.com;No Show;"called twice;\r\nno answer";referral\r\n'
        "m-2;2026-11-04;b@example.com;;;\r\n",
    )
    lines, rejected, _ = _read(tmp_path, "crm/meetings")

    assert rejected == []
    assert [(line.source_line, line.payload) for line in lines] == [
        (
            2,
            {
                "meeting_id": "m-1",
                "scheduled_for": "2026-11-03T14:00:00+00:00",
                "contact_email": "Ana@Example.com",
                "outcome": "No Show",
                "notes": "called twice;\r\nno answer",
                "lead_source": "referral",  # a column the project does not know: kept
            },
        ),
        (4, {"meeting_id": "m-2", "scheduled_for": "2026-11-04T00:00:00+00:00",
             "contact_email": "b@example.com"}),
    ]  # fmt: skip
    facts = KIND["crm/meetings"].describe(lines[0].payload, {})
    assert (facts.campaign_id, facts.lead_email) == ("m-1", "ana@example.com")


def test_each_bad_row_is_refused_alone_with_its_reason(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "deals.csv",
        "deal_id,stage,created_at,amount,status,probability,contact_email\n"
        'd-1,Proposal,2026-10-01,"12,500.50",won,60,a@x.com\n'
        "d-2,Demo,2026-10-02,12k,open,,\n"
        "d-3,Demo,03/10/2026,100,open,,\n"
        "d-4,Demo,2026-10-02,100,maybe,,\n"
        "d-5,,2026-10-02,100,open,,\n"
        "d-6,Demo,2026-10-02,100,open,,,surplus\n"
        "d-7,Demo,2026-10-02,-3.5,Closed Lost,0.2,\n",
    )
    _write(
        tmp_path,
        "meetings.csv",
        "meeting_id,scheduled_for,contact_first_name,contact_last_name,company_domain,confirmed\n"
        "m-1,2026-11-03,Ana,,,yes\n"
        "m-2,2026-11-03,Ana,Silva,acme.com,perhaps\n"
        "m-3,2026-11-03,Ana,Silva,acme.com,Y\n",
    )
    deals, deal_rejections, _ = _read(tmp_path, "crm/deals")
    meetings, meeting_rejections, _ = _read(tmp_path, "crm/meetings")

    assert [
        (d.payload["deal_id"], d.payload.get("amount"), d.payload["status"]) for d in deals
    ] == [
        ("d-1", "12500.50", "won"),
        ("d-7", "-3.5", "lost"),
    ]
    assert {r.source_line: r.reason for r in deal_rejections} == {
        3: "amount is not a number ('12k')",
        4: "created_at is not a time ('03/10/2026'): write ISO 8601, 2026-11-03 or 2026-11-03 14:30",
        5: "status is not open, won or lost ('maybe')",
        6: "stage is empty",
        7: "row has 8 cells, the header 7 columns",
    }
    assert all(
        r.payload and r.payload.startswith(f"d-{r.source_line - 1},") for r in deal_rejections
    )
    assert [m.payload["meeting_id"] for m in meetings] == ["m-3"]
    assert meetings[0].payload["confirmed"] == "true"
    assert {r.source_line: r.reason for r in meeting_rejections} == {
        2: "no contact: fill in contact_email, contact_linkedin_url, or contact_last_name with "
        "company_domain",
        3: "confirmed is not yes or no ('perhaps')",
    }


def test_a_file_that_cannot_be_read_is_refused_whole_and_named(tmp_path: Path) -> None:
    _write(tmp_path, "deals-legacy.csv", "deal_id,stage,amount\nd-1,Demo,100\n")
    _write(tmp_path, "meetings.csv", "meeting_id,scheduled_for,Meeting ID\nm-1,2026-11-03,x\n")
    binary = tmp_path / "crm" / "stage_changes.csv"
    binary.write_bytes(b"\x00\x01PK\x03\x04 not a csv")

    _, deals, slices = _read(tmp_path, "crm/deals")
    _, meetings, _ = _read(tmp_path, "crm/meetings")
    _, changes, _ = _read(tmp_path, "crm/stage_changes")

    assert [(r.source_file, r.source_line, r.reason) for r in deals] == [
        (
            "crm/deals-legacy.csv",
            1,
            "missing column created_at (crm/deals*.csv needs deal_id, stage, created_at; "
            "docs/crm.md)",
        )
    ]
    # Recorded as read: the same file is not refused again on every run.
    assert slices[0].end == (tmp_path / "crm" / "deals-legacy.csv").stat().st_size
    assert [r.reason for r in meetings] == ["header names meeting_id more than once"]
    assert [r.reason for r in changes] == [
        "file is binary (NUL bytes in its first line), not a CSV file"
    ]


def test_rows_appended_to_an_export_are_read_once_with_the_header_from_the_top(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "stage_changes.csv",
        "deal_id,stage,changed_at\nd-1,Discovery,2026-10-01\nd-1,Proposal,2026-10-09\n",
    )
    first, _, slices = _read(tmp_path, "crm/stage_changes")
    known = {p.relative: p.progress() for p in slices}
    with path.open("a", encoding="utf-8") as handle:
        handle.write('d-1,Won,2026-10-20\nd-2,"Demo\n')  # the last row is still being written

    second, pending, slices = _read(tmp_path, "crm/stage_changes", known)
    known = {p.relative: p.progress() for p in slices}
    with path.open("a", encoding="utf-8") as handle:
        handle.write('call",2026-10-21\n')
    third, rejected, _ = _read(tmp_path, "crm/stage_changes", known)

    assert [line.payload["stage"] for line in first] == ["Discovery", "Proposal"]
    assert [(line.source_line, line.payload["stage"]) for line in second] == [(4, "Won")]
    # Said, not silently held back, and read once complete.
    assert [(r.source_line, r.reason) for r in pending] == [
        (5, "a quoted cell is not closed by the end of the file (read again next run)")
    ]
    assert [(line.source_line, line.payload["stage"]) for line in third] == [(5, "Demo\ncall")]
    assert rejected == []


def test_the_same_row_in_two_exports_is_one_version(tmp_path: Path) -> None:
    row = "meeting_id,scheduled_for,contact_email\nm-1,2026-11-03 14:00,a@x.com\n"
    _write(tmp_path, "meetings-1.csv", row)
    _write(tmp_path, "meetings-2.csv", row)
    _write(tmp_path, "meetings-3.csv", row.replace("14:00", "15:00"))
    lines, _, _ = _read(tmp_path, "crm/meetings")

    kind = KIND["crm/meetings"]
    deliveries = [event_row(kind, line, LOADED_AT)["delivery_id"] for line in lines]
    assert deliveries[0] == deliveries[1] != deliveries[2]


def test_files_in_crm_that_no_loader_reads_are_listed(tmp_path: Path) -> None:
    _write(tmp_path, "meetings.csv", "meeting_id,scheduled_for\n")
    _write(tmp_path, "notes.txt", "call Ana back\n")
    _write(tmp_path, "contacts.csv", "email\n")
    _write(tmp_path, ".meetings.csv.tmp", "")
    (tmp_path / "crm" / "meetings").mkdir()

    listed = {e.path: e.reason for e in unread_entries(tmp_path, LANDING_LOADERS)}

    expected = "not a CRM file (deals*.csv, meetings*.csv, stage_changes*.csv)"
    assert listed == {
        "crm/notes.txt": expected,
        "crm/contacts.csv": expected,
        "crm/.meetings.csv.tmp": "hidden or temporary file",
        "crm/meetings/": "no loader for this folder",
    }


def test_the_documented_templates_are_the_fixtures_and_load_without_a_rejection(
    tmp_path: Path,
) -> None:
    docs = (Path(__file__).parents[1] / "docs" / "crm.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in docs.split("```csv\n")[1:]]
    fixtures = Path(__file__).parent / "fixtures" / "crm"
    names = ["meetings.csv", "deals.csv", "stage_changes.csv"]
    assert blocks == [(fixtures / name).read_text(encoding="utf-8") for name in names]
    for name in names:
        _write(tmp_path, name, (fixtures / name).read_text(encoding="utf-8"))
    read = {kind: _read(tmp_path, kind)[:2] for kind in KIND}
    assert {kind: (len(lines), rejected) for kind, (lines, rejected) in read.items()} == {
        "crm/meetings": (2, []),
        "crm/deals": (2, []),
        "crm/stage_changes": (3, []),
    }


def test_a_stray_quote_in_an_unquoted_cell_is_text_and_holds_nothing_back(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        "Meetings.CSV",  # any case
        "meeting_id,scheduled_for,contact_email,notes\n"
        'm-1,2026-11-03,a@x.com,wants a 12" screen\n'
        'm-2,2026-11-04,b@x.com,"quoted, with ""quotes"""\n'
        "m-3,2026-11-05,c@x.com,plain\n",
    )
    lines, rejected, _ = _read(tmp_path, "crm/meetings")

    assert rejected == []
    assert [(line.source_line, line.payload.get("notes")) for line in lines] == [
        (2, 'wants a 12" screen'),
        (3, 'quoted, with "quotes"'),
        (4, "plain"),
    ]


def test_a_file_of_carriage_returns_alone_is_refused_not_a_crash(tmp_path: Path) -> None:
    _write(tmp_path, "deals.csv", "deal_id,stage,created_at\rd-1,Demo,2026-10-01\r")
    _, rejected, _ = _read(tmp_path, "crm/deals")
    assert [r.reason for r in rejected] == [
        "lines end in a carriage return alone (an old Mac CSV): save the file as CSV UTF-8"
    ]


def test_a_last_row_without_its_line_end_is_read_again_until_it_has_one(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "meetings.csv", "meeting_id,scheduled_for,contact_email\nm-1,2026-11-03,a@x"
    )
    first, _, slices = _read(tmp_path, "crm/meetings")
    known = {p.relative: p.progress() for p in slices}
    path.write_bytes(path.read_bytes() + b".com\nm-2,2026-11-04,b@x.com\n")
    second, _, _ = _read(tmp_path, "crm/meetings", known)

    # Loaded as it stood, then read again whole: the rows of the first read of line 2 are
    # replaced (ingestion.progress.clear_unrecorded), so it is stored once, complete.
    assert [(line.source_line, line.payload["contact_email"]) for line in first] == [(2, "a@x")]
    assert slices[0].lines == 1
    assert [(line.source_line, line.payload["contact_email"]) for line in second] == [
        (2, "a@x.com"),
        (3, "b@x.com"),
    ]


def test_an_export_written_again_with_a_row_changed_mid_file_is_read_again(
    tmp_path: Path,
) -> None:
    rows = [f"m-{n},2026-11-03,lead{n}@x.com,scheduled\n" for n in range(3000)]
    header = "meeting_id,scheduled_for,contact_email,outcome\n"
    path = _write(tmp_path, "meetings.csv", header + "".join(rows))
    _, _, slices = _read(tmp_path, "crm/meetings")
    known = {p.relative: p.progress() for p in slices}
    rows[1500] = rows[1500].replace("scheduled", "completed")  # same length, mid-file
    path.write_text(header + "".join(rows) + "m-3000,2026-11-04,new@x.com,scheduled\n")

    again, _, slices = _read(tmp_path, "crm/meetings", known)

    assert path.stat().st_size > 70_000  # beyond what a head-and-tail hash would see
    assert len(again) == 3001 and not slices[0].replaces  # the whole file, earlier rows kept
    assert again[1500].payload["outcome"] == "completed"
