"""HubSpot's staging models on the contracts' records and on the shapes HubSpot also sends:
outcome spellings, amounts that are not numbers, a newer version of a record, an archived one."""

from __future__ import annotations

import json
from pathlib import Path

from cis.db import Target, loader_target, transformer_target
from cis.jobs.ingest_events import ingest_event_landing
from cis.transform import run_dbt
from tests.event_builds import client_database
from tests.pg import query

CONTRACTS = Path(__file__).parent / "fixtures" / "contracts"
KINDS = {
    "hubspot__deal.jsonl": "hubspot/deals",
    "hubspot__meeting.jsonl": "hubspot/meetings",
    "hubspot__contact.jsonl": "hubspot/contacts",
    "hubspot__pipelines.jsonl": "hubspot/pipelines",
}


def _records(name: str) -> list[dict]:
    return [json.loads(line) for line in (CONTRACTS / name).read_text().splitlines() if line]


def _land(root: Path, kind: str, name: str, records: list[dict]) -> None:
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records))


def test_hubspot_records_stage_with_outcomes_normalised_and_the_newest_version_kept(
    tmp_path: Path,
) -> None:
    target: Target = client_database("hubspot_staging")
    landing = tmp_path / "landing"
    for name, kind in KINDS.items():
        _land(landing, kind, f"1-{name}", _records(name))
    # Later files: HubSpot's other outcome spellings, an amount that is not a number, a newer
    # version of a deal, and an archived meeting.
    meetings = _records("hubspot__meeting.jsonl")
    meetings[1]["properties"]["hs_meeting_outcome"] = "NO SHOW"
    meetings[1]["properties"]["hs_lastmodifieddate"] = "2025-09-12T08:00:00.000Z"
    meetings[4]["properties"]["hs_meeting_outcome"] = "Scheduled"
    meetings[4]["properties"]["hs_lastmodifieddate"] = "2025-09-24T08:00:00.000Z"
    meetings[5]["archived"] = True
    meetings[5]["properties"]["hs_lastmodifieddate"] = "2025-10-03T08:00:00.000Z"
    deal = _records("hubspot__deal.jsonl")[1]
    deal["properties"]["amount"] = "about 12k"
    deal["properties"]["hs_lastmodifieddate"] = "2025-10-05T08:00:00.000Z"
    _land(landing, "hubspot/meetings", "2-meetings.jsonl", [meetings[1], meetings[4], meetings[5]])
    _land(landing, "hubspot/deals", "2-deals.jsonl", [deal])
    ingest_event_landing(loader_target(target), landing, tmp_path / "dlt")

    run_dbt(
        ["build", "--quiet", "--select", "path:dbt_project/models/staging/hubspot"],
        transformer_target(target),
        work_dir=tmp_path / "dbt",
    )

    deals = query(
        target,
        "select deal_id, amount, amount_text, stage_id, is_closed_won, contact_ids "
        "from staging.stg_hubspot__deals order by deal_id",
    )
    assert deals == [
        ("31558902741", 24000, "24000", "closedwon", True, ["92847561203"]),
        ("31558903388", None, "about 12k", "1052845734", False, ["92847562019"]),
    ]
    changes = query(
        target,
        "select deal_id, stage_id, source_type from staging.stg_hubspot__deal_stage_changes "
        "order by deal_id, changed_at",
    )
    assert [c[1] for c in changes] == [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "contractsent",
        "closedwon",
        "1052845733",
        "1052845734",
    ]
    assert changes[1][2] == "AUTOMATION_PLATFORM"
    outcomes = dict(
        query(target, "select meeting_id, meeting_outcome from staging.stg_hubspot__meetings")
    )
    assert outcomes == {
        "58201937465": "completed",
        "58201939902": "no_show",
        "58201941177": "completed",
        "58201944630": "rescheduled",
        "58201945012": "scheduled",
        "58201950388": "canceled",
    }
    assert query(
        target, "select meeting_id from staging.stg_hubspot__meetings where is_archived"
    ) == [("58201950388",)]
    stages = dict(
        query(
            target,
            "select stage_id, case when is_won then 'won' when is_lost then 'lost' "
            "else 'open' end from staging.stg_hubspot__pipeline_stages",
        )
    )
    assert stages["closedwon"] == "won"
    assert stages["closedlost"] == "lost"
    assert stages["contractsent"] == "open"
    assert query(
        target,
        "select company_domain from staging.stg_hubspot__contacts where contact_id = '92847561203'",
    ) == [("cobaltridgelogistics.com",)]
