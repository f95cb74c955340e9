"""The thread marts and the reply analyzer in the warehouse, end to end: generated vendor events
loaded through `ingest landing`, built with dbt, analysed by `cis replies analyze` and built
again, on a real PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cis.db import Target, connect, transformer_target
from cis.generate import generate_landing
from cis.generate.late_events import MARTS, fingerprints
from cis.jobs.analyze_replies import analyze_replies
from cis.jobs.ingest import ingest_landing
from cis.jobs.reply_review import UnknownReply, relabel, waiting_for_review
from cis.transform import BUILD_LOCK, run_dbt
from detectors.replies.labels import ANALYZER_VERSION
from detectors.replies.llm import LlmBackend
from tests.event_builds import MODELS_ONLY, client_database
from tests.fake_anthropic import fake_anthropic
from tests.pg import query

THREAD_MARTS = {t: k for t, k in MARTS.items() if t.startswith("threads.")}
THREAD_MODELS = [
    "path:dbt_project/models/intermediate/threads",
    "path:dbt_project/models/marts/threads",
]


def connect_and_run(target: Target, sql: str, params: tuple = ()) -> None:
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("threads")
    target = client_database("thread_marts")
    generate_landing(work / "landing", 300, seed=17, events=True)
    ingest_landing(target, work / "landing", pipelines_dir=work / "dlt")
    run_dbt(MODELS_ONLY, transformer_target(target), work_dir=work / "dbt")
    before = query(target, "select analysis_status, count(*) from threads.fct_replies group by 1")
    first = analyze_replies(target)
    # The results reach the marts through an incremental build of what reads them.
    run_dbt(
        [*MODELS_ONLY, "--select", "stg_cis__reply_analyses+"],
        transformer_target(target),
        work_dir=work / "dbt",
    )
    return {"target": target, "work": work, "before": dict(before), "first": first}


def test_every_reply_is_one_message_of_its_thread(built: dict) -> None:
    target = built["target"]
    # Each Smartlead reply once, whichever dialects and how many deliveries brought it.
    raw = query(
        target,
        "select count(distinct coalesce(payload #>> '{reply_message,message_id}',"
        " payload #>> '{reply,message_id}', payload ->> 'message_id'))"
        " from raw_smartlead.webhook_events where event_name in ('EMAIL_REPLY', 'EMAIL_REPLIED')",
    )[0][0]
    mart = query(
        target,
        "select count(*), count(distinct provider_message_id) from threads.fct_thread_messages"
        " where provider = 'smartlead' and direction = 'inbound' and message_source = 'webhook'",
    )[0]
    assert raw > 0 and mart == (raw, raw)
    # Positions run 1..n in every thread, in time order.
    gaps = query(
        target,
        "select count(*) from (select thread_id, count(*) as n, max(position_in_thread) as top,"
        " bool_and(ordered) as ordered from (select thread_id, position_in_thread,"
        " message_at >= coalesce(lag(message_at) over (partition by thread_id"
        " order by position_in_thread), message_at) as ordered"
        " from threads.fct_thread_messages) as m group by thread_id) as t"
        " where n <> top or not ordered",
    )[0][0]
    assert gaps == 0
    # Each thread is one person in one campaign, and holds at least one message of ours.
    assert query(
        target,
        "select count(*) from (select thread_id from threads.fct_thread_messages group by 1"
        " having count(distinct (campaign_id, contact_key)) > 1"
        " or count(*) filter (where direction = 'outbound') = 0) as t",
    ) == [(0,)]


def test_a_reply_answers_an_earlier_message_of_ours(built: dict) -> None:
    target = built["target"]
    answered, total, before = query(
        target,
        "select count(r.answered_activity_id), count(*),"
        " count(*) filter (where a.sent_at <= r.replied_at)"
        " from threads.fct_replies as r"
        " left join engagement.fct_activities as a on a.activity_id = r.answered_activity_id"
        " where r.channel = 'email'",
    )[0]
    assert total > 0 and answered == total == before


def test_linkedin_and_email_threads_of_one_person_are_one_conversation(built: dict) -> None:
    target = built["target"]
    both = query(
        target,
        "select conversation_id from threads.fct_thread_messages where lead_id is not null"
        " group by conversation_id having count(distinct channel) > 1"
        " and count(distinct thread_id) > 1 limit 1",
    )
    assert both, "the generator writes leads reached by email and LinkedIn"
    assert query(
        target,
        "select count(distinct (client_id, lead_id)) from threads.fct_thread_messages"
        " where conversation_id = %s",
        (both[0][0],),
    ) == [(1,)]


def _inbox_answers_in(landing: Path) -> dict[tuple[str, str], datetime]:
    """Read apart from the models: the messages of ours in HeyReach reply histories written
    after the lead's first reply and not a campaign message, by (conversation, text), at their
    earliest time."""
    deliveries = []
    for path in sorted((landing / "linkedin" / "events").glob("*.jsonl")):
        for line in path.read_text(errors="replace").splitlines():
            try:
                body = json.loads(line)
                conversation, messages = body["conversation_id"], body["recent_messages"]
                deliveries.append(
                    (
                        body["event_type"],
                        conversation,
                        [
                            (
                                datetime.fromisoformat(m["creation_time"].replace("Z", "+00:00")),
                                m["message"],
                                m["is_reply"] is True,
                            )
                            for m in messages
                        ],
                    )
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # the generator's hostile lines
    first_reply: dict[str, datetime] = {}
    campaign_texts = set()
    for kind, conversation, messages in deliveries:
        for at, _text, is_reply in messages:
            if is_reply:
                first_reply[conversation] = min(first_reply.get(conversation, at), at)
        if kind in ("message_sent", "inmail_sent"):
            campaign_texts.add((conversation, messages[0][1]))
    ours: dict[tuple[str, str], datetime] = {}
    for kind, conversation, messages in deliveries:
        for at, text, is_reply in messages if "reply" in kind else []:
            key = (conversation, text)
            if not is_reply and key not in campaign_texts and at > first_reply[conversation]:
                ours[key] = min(ours.get(key, at), at)
    return ours


def test_a_persons_answer_from_the_inbox_is_ours_and_says_a_person_answered(built: dict) -> None:
    target = built["target"]
    expected = _inbox_answers_in(built["work"] / "landing")
    assert expected, "the generator writes answers from the HeyReach inbox"
    inbox = query(
        target,
        "select provider_thread_id, body_text, message_at, thread_id from threads.fct_thread_messages"
        " where message_source = 'inbox' and direction = 'outbound'",
    )
    assert {(c, t): at for c, t, at, _ in inbox} == expected
    answered = dict(
        query(
            target,
            "select thread_id, agency_answered_by from threads.fct_conversation_threads"
            " where agency_answered_by is not null",
        )
    )
    assert {answered.get(thread) for *_, thread in inbox} == {"person"}
    assert "person" not in {v for k, v in answered.items() if k not in {t for *_, t in inbox}}
    # The response time runs from the lead's reply to the person's answer.
    _conversation, _text, answer_at, thread = min(inbox, key=lambda row: row[2])
    [(minutes, first_reply_at)] = query(
        target,
        "select agency_first_response_minutes, first_reply_at"
        " from threads.fct_conversation_threads where thread_id = %s",
        (thread,),
    )
    assert float(minutes) == round((answer_at - first_reply_at).total_seconds() / 60, 1)


def test_replies_wait_for_the_analyzer_then_carry_its_labels(built: dict) -> None:
    target, first = built["target"], built["first"]
    assert set(built["before"]) <= {"pending", "no_body"} and built["before"].get("pending")
    assert first.analysed == built["before"]["pending"] and first.unreadable == 0
    statuses = dict(
        query(target, "select analysis_status, count(*) from threads.fct_replies group by 1")
    )
    assert statuses.get("analysed") == first.analysed and "pending" not in statuses
    assert query(
        target,
        "select distinct analyzer_version from threads.fct_replies where analysis_status = 'analysed'",
    ) == [(ANALYZER_VERSION,)]
    # What the generator wrote as an opt-out is read as one, and says why the lead said no.
    opt_outs = query(
        target,
        "select intent, rejection_reason from threads.fct_replies"
        " where new_text in ('Please remove me from your mailing list.', 'Unsubscribe.')",
    )
    assert opt_outs and set(opt_outs) == {("unsubscribe", "do_not_contact")}
    notices = query(
        target,
        "select intent, ooo_return_date > replied_at::date from threads.fct_replies"
        " where new_text like 'Thank you for your email. I am out of the office until %%'",
    )
    assert notices and set(notices) == {("out_of_office", True)}


def test_the_analyzer_reads_only_what_is_new_or_changed(built: dict) -> None:
    target = built["target"]
    assert analyze_replies(target).analysed == 0
    keys = [
        row[0]
        for row in query(
            target, "select message_key from cis.reply_analyses order by message_key limit 3"
        )
    ]
    connect_and_run(
        target,
        "update cis.reply_analyses set body_hash = 'changed' where message_key = %s;"
        " update cis.reply_analyses set analyzer_version = 'replies-0.0.1'"
        " where message_key = any(%s)",
        (keys[0], keys[1:]),
    )
    assert analyze_replies(target).analysed == 3
    assert analyze_replies(target, everything=True).analysed == built["first"].analysed


def test_a_persons_label_wins_over_the_analyzer(built: dict) -> None:
    target = built["target"]
    key = query(
        target,
        "select m.message_key from threads.fct_replies as r"
        " join threads.fct_thread_messages as m on m.thread_message_id = r.reply_id"
        " where r.label_source = 'analyzer' and r.intent <> 'interested'"
        " order by r.confidence, m.message_key limit 1",
    )[0][0]
    with pytest.raises(ValueError, match="not one of"):
        relabel(target, key, intent="maybe")
    with pytest.raises(UnknownReply):
        relabel(target, "smartlead:no-such-reply", intent="interested")
    relabel(target, key, intent="interested", note="asked for the deck", labelled_by="test")
    analyze_replies(target, everything=True)  # the analyzer runs again: the label stays
    run_dbt([*MODELS_ONLY], transformer_target(target), work_dir=built["work"] / "dbt")
    assert query(
        target,
        "select r.intent, r.label_source, r.confidence, r.labelled_by from threads.fct_replies as r"
        " join threads.fct_thread_messages as m on m.thread_message_id = r.reply_id"
        " where m.message_key = %s",
        (key,),
    ) == [("interested", "review", 1.0, "test")]
    assert waiting_for_review(target, below=1.01, limit=1000) and key not in {
        row.message_key for row in waiting_for_review(target, below=1.01, limit=1000)
    }


def test_an_incremental_build_after_the_analyzer_equals_a_build_from_scratch(built: dict) -> None:
    target = built["target"]
    # A result the marts have not read yet: the next incremental build brings in just that.
    connect_and_run(
        target,
        "update cis.reply_analyses set intent = 'referral', analyzed_at = clock_timestamp()"
        " where message_key = (select min(message_key) from cis.reply_analyses)",
    )
    run_dbt([*MODELS_ONLY], transformer_target(target), work_dir=built["work"] / "dbt")
    incremental = {t: v for t, v in fingerprints(target).items() if t in THREAD_MARTS}
    assert query(target, "select count(*) from threads.fct_replies where intent = 'referral'")
    # The thread models again from scratch, over the same upstream tables.
    run_dbt(
        [*MODELS_ONLY, "--full-refresh", "--select", *THREAD_MODELS],
        transformer_target(target),
        work_dir=built["work"] / "dbt",
    )
    scratch = {t: v for t, v in fingerprints(target).items() if t in THREAD_MARTS}
    assert incremental == scratch and all(rows > 0 for rows, _ in scratch.values())


def test_a_client_reads_only_its_own_threads(built: dict) -> None:
    target = built["target"]
    clients = query(target, "select client_id::text, db_role from cis.clients order by db_role")
    seen = {}
    for client_id, role in clients:
        rows = query(
            target,
            f"set role {role}; select count(*), count(*) filter (where client_id::text <> %s)"
            " from threads.fct_thread_messages",
            (client_id,),
        )
        seen[role] = rows[0]
    assert all(other == 0 for _count, other in seen.values())
    assert sum(count for count, _ in seen.values()) > 0


def test_a_no_reaches_the_lead_and_the_validator(built: dict) -> None:
    target = built["target"]
    # Every no the analyzer read is a contact event the validator's rules see: an opt-out an
    # unsubscribe, any other no but a wrong person's a not_interested.
    missing = query(
        target,
        "select count(*) from threads.fct_replies as r where r.lead_id is not null"
        " and r.rejection_reason is not null and r.rejection_reason <> 'wrong_contact'"
        " and not exists (select 1 from engagement.fct_contact_events as e"
        " where e.lead_id = r.lead_id and e.occurred_at = r.replied_at and e.event_type ="
        " case when r.rejection_reason = 'do_not_contact' then 'unsubscribe'"
        " else 'not_interested' end)",
    )
    expected = query(
        target,
        "select count(*) from threads.fct_replies where lead_id is not null"
        " and rejection_reason not in ('do_not_contact', 'wrong_contact')",
    )[0][0]
    events = query(
        target,
        "select count(*) from engagement.fct_contact_events where event_type = 'not_interested'",
    )[0][0]
    assert missing == [(0,)] and expected > 0 and events == expected
    # The lead carries its latest no and every objection; a fresh no cools it. (A lead with one
    # no, whichever reason the analyzer read in it.)
    lead_id, reason, message_key = query(
        target,
        "select r.lead_id::text, r.rejection_reason, m.message_key from threads.fct_replies as r"
        " join threads.fct_thread_messages as m on m.thread_message_id = r.reply_id"
        " where r.channel = 'email' and r.lead_id is not null"
        " and r.rejection_reason not in ('do_not_contact', 'wrong_contact')"
        " and (select count(*) from threads.fct_replies as other where other.lead_id = r.lead_id"
        " and other.rejection_reason is not null) = 1 order by r.reply_id limit 1",
    )[0]
    row = query(
        target,
        "select rejection_reason, jsonb_array_length(objection_history), pool_status"
        " from pool.dim_leads where lead_id = %s",
        (lead_id,),
    )[0]
    assert row[0] == reason and row[1] >= 1 and row[2] != "cooling"  # that no is long past
    connect_and_run(
        target,
        "update cis.reply_analyses set message_at = now() - interval '10 days',"
        " analyzed_at = clock_timestamp() where message_key = %s",
        (message_key,),
    )
    run_dbt(
        [*MODELS_ONLY, "--select", "dim_leads"],
        transformer_target(target),
        work_dir=built["work"] / "dbt",
    )
    assert query(
        target, "select pool_status from pool.dim_leads where lead_id = %s", (lead_id,)
    ) == [("cooling",)]


def test_the_cooling_period_is_the_validators() -> None:
    import yaml

    from cis.db import project_root

    root = project_root()
    project = yaml.safe_load((root / "dbt_project.yml").read_text())
    pool = yaml.safe_load((root / "config" / "pool.yml").read_text())
    assert (
        project["vars"]["not_interested_cooling_days"]
        == pool["validation"]["not_interested_cooling_days"]
    )


# The build lock as pg_locks shows it: a bigint advisory key split into its two halves.
_BUILD_KEY = (
    int.from_bytes(hashlib.sha256(f"cis-pipeline:{BUILD_LOCK}".encode()).digest()[:8], "big")
    - (1 << 63)
) & ((1 << 64) - 1)
_BUILD_LOCK_HELD = f"""
    select count(*) from pg_locks
    where locktype = 'advisory' and granted and database = (
        select oid from pg_database where datname = current_database()
    ) and classid::bigint = {_BUILD_KEY >> 32} and objid::bigint = {_BUILD_KEY & 0xFFFFFFFF}
"""
_ANALYSED_AT = "select message_key, analyzed_at from cis.reply_analyses order by message_key"
_WITH_BODY = (
    "select count(*) from intermediate.int_inbound_messages"
    " where body_text is not null or body_html is not null"
)
_KILLABLE = """
import json, sys
from cis.db import Target
from cis.jobs.analyze_replies import analyze_replies
analyze_replies(Target(**json.loads(sys.argv[1])), everything=True, batch=5)
"""


def _wait_for(target: Target, sql: str, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 120
    while query(target, sql)[0][0] == 0:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        assert process is None or process.poll() is None, f"exited before {what}"
        time.sleep(0.05)


def test_an_analyzer_run_killed_half_way_writes_nothing(built: dict) -> None:
    target = built["target"]
    before = query(target, _ANALYSED_AT)
    # A reader holds the last result: the run (in message order, five at a time) has rewritten
    # every other result in its transaction when it comes to wait for that one, and is killed.
    locker = connect(target, autocommit=False)
    with locker.cursor() as cur:
        cur.execute(
            "select 1 from cis.reply_analyses where message_key ="
            " (select max(message_key) from cis.reply_analyses) for update"
        )
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE, json.dumps(asdict(target))], start_new_session=True
    )
    try:
        _wait_for(
            target,
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            " and query ilike '%%reply_analyses%%' and pid <> pg_backend_pid()",
            "the analyzer to reach the held result",
            process,
        )
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
        locker.rollback()
        locker.close()
    assert process.returncode == -signal.SIGKILL

    assert query(target, _ANALYSED_AT) == before
    # The build lock went with the killed session: the next run takes it and redoes everything.
    assert analyze_replies(target, everything=True).analysed == query(target, _WITH_BODY)[0][0]


def test_the_analyzer_waits_for_a_build_and_the_next_build_reads_it(built: dict) -> None:
    target = built["target"]
    connect_and_run(target, "update cis.reply_analyses set analyzer_version = 'replies-0.0.1'")
    errors: list[BaseException] = []

    def build() -> None:
        try:
            run_dbt(
                [*MODELS_ONLY, "--select", "stg_cis__reply_analyses+"],
                transformer_target(target),
                work_dir=built["work"] / "dbt",
            )
        except BaseException as error:
            errors.append(error)

    builder = threading.Thread(target=build)
    builder.start()
    try:
        _wait_for(target, _BUILD_LOCK_HELD, "the build to take its lock")
        outcome = analyze_replies(target)  # waits for the build's lock
    finally:
        builder.join()
    assert errors == []
    assert outcome.analysed == query(target, _WITH_BODY)[0][0]
    # Every result was written after the build's last model finished.
    assert query(
        target,
        "select (select min(analyzed_at) from cis.reply_analyses)"
        " > (select max(refreshed_at) from intermediate.incremental_state)",
    ) == [(True,)]

    run_dbt(
        [*MODELS_ONLY, "--select", "stg_cis__reply_analyses+"],
        transformer_target(target),
        work_dir=built["work"] / "dbt",
    )
    assert query(
        target,
        "select analysis_status, analyzer_version from threads.fct_replies"
        " where analysis_status <> 'no_body' group by 1, 2",
    ) == [("analysed", ANALYZER_VERSION)]


def test_the_llm_backend_writes_its_version_and_the_local_analyzer_takes_over_again(
    built: dict,
) -> None:
    target = built["target"]
    total = query(target, _WITH_BODY)[0][0]
    with fake_anthropic() as fake:
        chosen = LlmBackend(
            api_key="test-key", model="fake-model", base_url=fake.base_url, max_retries=0
        )
        assert analyze_replies(target, backend=chosen).analysed == total  # a new version
        assert analyze_replies(target, backend=chosen).analysed == 0
    asked = len(fake.requests)
    assert 0 < asked < total  # the automatic messages were not sent
    assert dict(
        query(
            target,
            "select backend || ' ' || analyzer_version, count(*) from cis.reply_analyses group by 1",
        )
    ) == {f"anthropic {chosen.version}": asked, f"local {chosen.version}": total - asked}
    assert analyze_replies(target).analysed == total


def test_a_build_after_the_clock_moved_rewrites_only_the_threads_it_moved(built: dict) -> None:
    target = built["target"]
    last = query(target, "select max(last_message_at) from threads.fct_conversation_threads")[0][0]
    earlier, later = last - timedelta(days=10), last + timedelta(days=31)

    def build_at(at: datetime, *extra: str) -> None:
        clock = json.dumps({"threads_as_of": at.isoformat()})
        run_dbt(
            [*MODELS_ONLY, "--select", "fct_conversation_threads", *extra, "--vars", clock],
            transformer_target(target),
            work_dir=built["work"] / "dbt",
        )

    statuses = "select thread_id, status from threads.fct_conversation_threads order by 1"
    build_at(earlier)
    before = dict(query(target, statuses))
    assert {"active", "stale"} <= set(before.values())
    build_at(later)  # no new data: only the clock moved
    after = dict(query(target, statuses))
    moved = {thread for thread, status in after.items() if status != before[thread]}
    written = query(
        target,
        "select thread_id from threads.fct_conversation_threads where status_as_of = %s",
        (later,),
    )
    assert moved and {thread for (thread,) in written} == moved
    assert set(after.values()) <= {"dead", "resolved"}
    incremental = fingerprints(target)["threads.fct_conversation_threads"]
    build_at(later, "--full-refresh")
    assert fingerprints(target)["threads.fct_conversation_threads"] == incremental
