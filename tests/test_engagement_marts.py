"""engagement.fct_email_events end to end: generated vendor events in both Smartlead dialects and
Salesforge, loaded through `ingest landing` and built with dbt on a real PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import Target, transformer_target
from cis.generate import generate_landing
from cis.generate.events import DEFAULT_CLIENTS
from cis.jobs.clients_sync import sync_clients
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt
from tests.pg import embedded_server, fresh_database, query

EMAIL_EVENTS = {
    "smartlead": {
        "EMAIL_SENT": "sent",
        "EMAIL_OPEN": "open",
        "EMAIL_OPENED": "open",
        "EMAIL_LINK_CLICK": "click",
        "EMAIL_CLICKED": "click",
        "EMAIL_REPLY": "reply",
        "EMAIL_REPLIED": "reply",
        "EMAIL_BOUNCE": "bounce",
        "EMAIL_BOUNCED": "bounce",
        "LEAD_UNSUBSCRIBED": "unsubscribe",
        "EMAIL_UNSUBSCRIBED": "unsubscribe",
    },
    "salesforge": {
        "email_sent": "sent",
        "email_opened": "open",
        "link_clicked": "click",
        "email_replied": "reply",
        "email_bounced": "bounce",
        "contact_unsubscribed": "unsubscribe",
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("engagement")
    target = fresh_database(embedded_server(), "engagement_marts")
    bootstrap(target)
    sync_clients(target, load_clients(DEFAULT_CLIENTS))
    landing = work / "landing"
    generate_landing(landing, 400, seed=11, events=True, truth=work / "truth.jsonl")
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    run_dbt(
        ["build", "--quiet"],
        transformer_target(target),
        work_dir=work / "dbt",
    )
    return {"target": target, "work": work}


def _raw_email_rows(target: Target, provider: str) -> list[tuple[str, str]]:
    names = list(EMAIL_EVENTS[provider])
    return query(
        target,
        f"select event_key, event_name from raw_{provider}.webhook_events "
        "where event_name = any(%s)",
        (names,),
    )


def test_one_row_per_event_key_and_every_delivery_counted(built: dict) -> None:
    target = built["target"]
    for provider in EMAIL_EVENTS:
        raw = _raw_email_rows(target, provider)
        keys = {key for key, _name in raw}
        assert raw and len(keys) < len(raw), f"{provider}: the generator plants duplicates"
        mart = query(
            target,
            "select count(*), count(distinct event_key), sum(deliveries) "
            "from engagement.fct_email_events where provider = %s",
            (provider,),
        )[0]
        assert mart == (len(keys), len(keys), len(raw))


def test_both_dialects_land_in_one_vocabulary(built: dict) -> None:
    target = built["target"]
    by_name = dict(
        query(
            target,
            "select vendor_event_name, min(event_type) from engagement.fct_email_events "
            "group by vendor_event_name",
        )
    )
    expected = {**EMAIL_EVENTS["smartlead"], **EMAIL_EVENTS["salesforge"]}
    assert by_name and all(expected[name] == kind for name, kind in by_name.items())
    dialects = {
        row[0]
        for row in query(
            target,
            "select distinct dialect from engagement.fct_email_events where provider = 'smartlead'",
        )
    }
    assert dialects == {"A", "B"}


def test_machine_opens_and_bot_clicks_are_flagged_beside_human_ones(built: dict) -> None:
    target = built["target"]
    opens = dict(
        query(
            target,
            "select is_machine_open, count(*) from engagement.fct_email_events "
            "where event_type = 'open' group by 1",
        )
    )
    assert opens.get(True, 0) > 0 and opens.get(False, 0) > 0
    clicks = dict(
        query(
            target,
            "select is_bot_click, count(*) from engagement.fct_email_events "
            "where event_type = 'click' group by 1",
        )
    )
    assert clicks.get(True, 0) > 0
    # Flags name their rule, and only opens are machine opens, only clicks bot clicks.
    assert query(
        target,
        "select count(*) from engagement.fct_email_events where "
        "(is_machine_open or is_bot_click) <> (machine_reason is not null) "
        "or (is_machine_open and event_type <> 'open') or (is_bot_click and event_type <> 'click')",
    ) == [(0,)]


def machine_flag_scores(target: Target, truth: Path) -> dict[str, tuple[float, float, int]]:
    """Precision, recall and planted count of the machine flags, per event (open, click),
    against what the generator planted (matched on provider, email and second)."""
    flagged: Counter = Counter()
    for provider, key, event, at, machine in query(
        target,
        "select provider, message_key, event_type, date_trunc('second', occurred_at), "
        "is_machine_open or is_bot_click from engagement.fct_email_events "
        "where event_type in ('open', 'click')",
    ):
        flagged[(provider, key, event, at, machine)] += 1
    found = Counter(
        event for (_p, _k, event, _a, machine), n in flagged.items() if machine for _ in range(n)
    )
    planted: Counter = Counter()
    caught: Counter = Counter()
    for line in truth.read_text().splitlines():
        mark = json.loads(line)
        if not mark["machine"]:
            continue
        at = datetime.fromisoformat(mark["at"]).replace(microsecond=0)
        planted[mark["event"]] += 1
        for key in mark["message_keys"]:  # the email by each name the marts may give it
            name = (mark["provider"], key, mark["event"], at, True)
            if flagged[name] > 0:
                flagged[name] -= 1
                caught[mark["event"]] += 1
                break
    return {
        event: (caught[event] / found[event], caught[event] / planted[event], planted[event])
        for event in ("open", "click")
    }


def test_machine_flags_match_what_the_generator_planted(built: dict) -> None:
    scores = machine_flag_scores(built["target"], built["work"] / "truth.jsonl")
    print(f"machine flags against the planted truth: {scores}")
    for event, (precision, recall, planted) in scores.items():
        assert planted >= 10, event  # enough planted machine activity to measure
        assert precision >= 0.98 and recall >= 0.98, (event, precision, recall)


def test_events_reach_their_client_and_their_lead(built: dict) -> None:
    target = built["target"]
    attributed, with_lead, total = query(
        target,
        "select count(client_id), count(lead_id), count(*) from engagement.fct_email_events",
    )[0]
    assert total > 0
    assert attributed == total  # every generated campaign is claimed in config/clients.yml
    assert with_lead > 0.9 * total  # events are about pool leads (unknown ones kept, unlinked)


def test_the_marts_build_before_any_vendor_data_arrives(tmp_path: Path) -> None:
    target = fresh_database(embedded_server(), "engagement_empty")
    bootstrap(target)
    generate_landing(tmp_path / "landing", 50, seed=3, events=False)  # Apollo only
    ingest_landing(target, tmp_path / "landing", pipelines_dir=tmp_path / "dlt")
    assert query(target, "select to_regclass('raw_smartlead.webhook_events')") == [(None,)]
    run_dbt(
        ["build", "--quiet"],
        transformer_target(target),
        work_dir=tmp_path / "dbt",
    )
    assert query(target, "select count(*) from engagement.fct_email_events") == [(0,)]
