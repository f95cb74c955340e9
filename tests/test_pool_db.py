"""The pool end to end on a real PostgreSQL: ingest, dbt build, allocation, RLS, deletion."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from cis.bootstrap import bootstrap
from cis.clients import Client, Icp, load_clients
from cis.db import Target, connect, cursor, transformer_target
from cis.generate import generate_landing
from cis.jobs.allocate import allocate, convert_assignment
from cis.jobs.clients_sync import sync_clients
from cis.jobs.forget import forget_person
from cis.jobs.frames import read_assignments
from cis.jobs.gaps import completeness
from cis.jobs.ingest import ingest_landing
from cis.jobs.summary import pool_figures
from cis.jobs.validate import validate_assigned
from cis.privacy import identity_keys
from cis.transform import run_dbt
from ingestion.apollo import LANDING_KIND
from ingestion.apollo.suppression import pseudonym
from tests.event_builds import DATA_TESTED, MODELS_ONLY
from tests.pg import embedded_server, fresh_database, query

ROOT = Path(__file__).resolve().parents[1]
LEADS = 600


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One database with generated leads ingested and the pool marts built."""
    work = tmp_path_factory.mktemp("pool")
    target = fresh_database(embedded_server(), "pool_e2e")
    bootstrap(target)
    landing = work / "landing"
    generated = generate_landing(landing, LEADS, seed=11)
    report = ingest_landing(target, landing, pipelines_dir=work / "dlt")
    clients = load_clients(ROOT / "config" / "clients.yml")
    sync_clients(target, clients)
    build(target, work, tests=True)
    return {
        "target": target,
        "work": work,
        "landing": landing,
        "clients": clients,
        "generated": generated,
        "report": report,
    }


def build(target: Target, work: Path, select: str | None = None, tests: bool = False) -> None:
    """``dbt build`` as the transformer. The first build runs the data tests; the rebuilds
    after each change build the models only, and the last test of this module runs the data
    tests once on what all the changes left (the unit tests run in test_engagement_marts)."""
    args = [*(DATA_TESTED if tests else MODELS_ONLY), *(["--select", select] if select else [])]
    run_dbt(args, transformer_target(target), work_dir=work / "dbt")


def test_identity_resolution_merges_duplicate_apollo_ids(pool: dict) -> None:
    target = pool["target"]
    shared = query(
        target,
        "select lower(email) from raw_apollo.people where email is not null "
        "group by 1 having count(distinct id) > 1",
    )
    assert len(shared) >= 1
    for (email,) in shared:
        rows = query(
            target,
            "select cardinality(apollo_person_ids) from pool.dim_leads where email = %s",
            (email,),
        )
        assert len(rows) == 1, email
        assert rows[0][0] >= 2
    figures = pool_figures(target, pool["report"].counts.fields_seen)
    assert figures.duplicates_merged >= pool["generated"].second_ids
    assert figures.fields_stored_share == 1.0, figures.missing_fields


def test_repulls_become_history_and_survivorship_takes_latest(pool: dict) -> None:
    target = pool["target"]
    changed = query(
        target,
        "select lead_id, count(*) from pool.dim_lead_attribute_history group by 1 "
        "having count(*) > 1 limit 20",
    )
    assert changed, "re-pulls with a new title or company must produce a second version"
    for lead_id, _versions in changed:
        latest = query(
            target,
            "select title, valid_to from pool.dim_lead_attribute_history where lead_id = %s "
            "order by version_number desc limit 1",
            (lead_id,),
        )[0]
        assert latest[1] is None
        assert (
            query(target, "select title from pool.dim_leads where lead_id = %s", (lead_id,))[0][0]
            == latest[0]
        )


def test_linkedin_only_people_are_kept(pool: dict) -> None:
    rows = query(
        pool["target"],
        "select pool_status, count(*) from pool.dim_leads where email is null "
        "and linkedin_url is not null group by 1",
    )
    assert rows and all(status != "invalid" for status, _ in rows)


def test_bad_lines_are_quarantined_with_reasons(pool: dict) -> None:
    reasons = [
        r[0] for r in query(pool["target"], "select reason from raw_apollo.rejected_records")
    ]
    assert any("not valid JSON" in r for r in reasons)
    assert any("email is not an email" in r for r in reasons)
    assert any("unknown seniority" in r for r in reasons)
    assert any(r.startswith(("file is not JSON Lines", "file is binary")) for r in reasons)
    assert len(reasons) == pool["report"].counts.rejected


def test_exclusivity_index_refuses_a_second_holder(pool: dict) -> None:
    target = pool["target"]
    clients = pool["clients"]
    lead_id = query(target, "select lead_id from pool.dim_leads limit 1")[0][0]
    conn = connect(target, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "insert into cis.lead_assignments (lead_id, client_id, assigned_by) "
                "values (%s, %s, 'test')",
                (lead_id, str(clients[0].client_id)),
            )
            with pytest.raises(psycopg2.errors.UniqueViolation):
                cur.execute(
                    "insert into cis.lead_assignments (lead_id, client_id, assigned_by) "
                    "values (%s, %s, 'test')",
                    (lead_id, str(clients[1].client_id)),
                )
    finally:
        conn.rollback()
        conn.close()


def test_concurrent_allocators_never_share_a_lead(pool: dict) -> None:
    target = pool["target"]
    clients = pool["clients"]
    outcomes: list = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(order: list[Client]) -> None:
        try:
            barrier.wait()
            outcomes.append(allocate(target, order, use_lock=False))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(clients,)),
        threading.Thread(target=run, args=(list(reversed(clients)),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    doubles = query(
        target,
        "select lead_id from cis.lead_assignments where assignment_status in "
        "('active', 'converted') group by lead_id having count(*) > 1",
    )
    assert doubles == []
    assert sum(o.inserted for o in outcomes) > 0
    # Both planned from the same empty state: the index refused what the other took first.
    assert sum(o.skipped_taken for o in outcomes) > 0


def test_rerun_with_nothing_new_changes_nothing(pool: dict) -> None:
    target = pool["target"]
    allocate(target, pool["clients"])
    before = query(
        target,
        "select count(*), count(*) filter (where assignment_status = 'active') "
        "from cis.lead_assignments",
    )
    again = allocate(target, pool["clients"])
    assert (again.inserted, again.released) == (0, 0)
    assert (
        query(
            target,
            "select count(*), count(*) filter (where assignment_status = 'active') "
            "from cis.lead_assignments",
        )
        == before
    )
    capacities = {c.slug: c.capacity for c in pool["clients"]}
    for slug, active in query(
        target,
        "select c.client_slug, count(a.*) from cis.clients c join cis.lead_assignments a "
        "using (client_id) where a.assignment_status = 'active' group by 1",
    ):
        assert active <= capacities[slug]


def test_row_level_security_per_client(pool: dict) -> None:
    target = pool["target"]
    allocate(target, pool["clients"])
    build(target, pool["work"], "stg_cis__lead_assignments+ stg_cis__clients+")
    northwind, ledgerly = (c for c in pool["clients"] if c.slug in ("northwind", "ledgerly"))
    as_northwind = replace(target, user=northwind.db_role, password="")
    own = query(as_northwind, "select distinct client_id::text from pool.fct_lead_assignments")
    assert own == [(str(northwind.client_id),)]
    assert query(as_northwind, "select client_slug from pool.dim_clients") == [("northwind",)]
    assert query(
        as_northwind,
        "select count(*) from cis.lead_assignments where client_id = %s",
        (str(ledgerly.client_id),),
    ) == [(0,)]
    visible_leads = query(as_northwind, "select count(*) from pool.dim_leads")[0][0]
    held = query(
        target,
        "select count(*) from cis.lead_assignments where client_id = %s "
        "and assignment_status in ('active', 'converted')",
        (str(northwind.client_id),),
    )[0][0]
    assert visible_leads == held > 0
    history_visible = query(as_northwind, "select count(*) from pool.dim_lead_attribute_history")
    history_held = query(
        target,
        "select count(*) from pool.dim_lead_attribute_history h where exists (select 1 from "
        "cis.lead_assignments a join pool.dim_lead_aliases al on a.lead_id = al.alias_lead_id "
        "where al.lead_id = h.lead_id and a.client_id = %s "
        "and a.assignment_status in ('active', 'converted'))",
        (str(northwind.client_id),),
    )
    history_all = query(target, "select count(*) from pool.dim_lead_attribute_history")
    assert history_visible == history_held and 0 < history_held[0][0] < history_all[0][0]
    # The denied case: the transformer sees every client's rows, a client cannot write.
    everyone = query(
        transformer_target(target),
        "select count(distinct client_id) from pool.fct_lead_assignments",
    )[0][0]
    assert everyone > 1
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), cursor(as_northwind) as cur:
        cur.execute("delete from cis.lead_assignments")


def test_job_change_keeps_the_lead_and_its_assignment(pool: dict) -> None:
    target = pool["target"]
    allocate(target, pool["clients"])
    lead_id, apollo_id, source_file, source_line = query(
        target,
        "select a.lead_id::text, p.id, p._source_file, p._source_line "
        "from cis.lead_assignments a join pool.dim_leads l on l.lead_id = a.lead_id "
        "join raw_apollo.people p on p.id = l.apollo_person_id "
        "where a.assignment_status = 'active' and cardinality(l.apollo_person_ids) = 1 "
        "order by p._pulled_at desc, a.lead_id limit 1",
    )[0]
    lines = (pool["landing"] / source_file).read_text().splitlines()
    person = json.loads(lines[source_line - 1])
    person["title"] = "Chief Moving Officer"
    person["organization"] = {**person["organization"], "id": "f" * 24, "name": "Newco Ltd"}
    person["organization_id"] = "f" * 24
    for entry in person["employment_history"]:  # Apollo refreshed the profile: a newer record
        entry["updated_at"] = "2026-01-05T09:00:00.000Z"
    later = pool["work"] / "job_change"
    (later / "apollo" / "people").mkdir(parents=True)
    (later / "apollo" / "people" / "2026-01-05T090000Z-pull-job-change.jsonl").write_text(
        json.dumps(person) + "\n"
    )
    ingest_landing(target, later, pipelines_dir=pool["work"] / "dlt")
    build(target, pool["work"])
    assert query(
        target,
        "select lead_id::text, title, company_name from pool.dim_leads "
        "where %s = any(apollo_person_ids)",
        (apollo_id,),
    ) == [(lead_id, "Chief Moving Officer", "Newco Ltd")]
    assert query(
        target,
        "select assignment_status from cis.lead_assignments where lead_id = %s "
        "and released_at is null",
        (lead_id,),
    ) == [("active",)]
    versions = query(
        target,
        "select title from pool.dim_lead_attribute_history where lead_id = %s "
        "order by version_number",
        (lead_id,),
    )
    assert len(versions) >= 2 and versions[-1] == ("Chief Moving Officer",)


def test_cancelled_client_releases_its_leads_and_converted_stay(pool: dict) -> None:
    target = pool["target"]
    clients = pool["clients"]
    allocate(target, clients)
    quota = next(c for c in clients if c.slug == "quotaforge")
    held = query(
        target,
        "select lead_id::text from cis.lead_assignments where client_id = %s "
        "and assignment_status = 'active'",
        (str(quota.client_id),),
    )
    assert len(held) >= 2
    assert convert_assignment(target, held[0][0], str(quota.client_id)) == 1
    cancelled = [replace(c, status="cancelled") if c.slug == "quotaforge" else c for c in clients]
    sync_clients(target, cancelled)
    outcome = allocate(target, cancelled)
    assert outcome.released == len(held) - 1
    rows = dict(
        query(
            target,
            "select assignment_status, count(*) from cis.lead_assignments "
            "where client_id = %s group by 1",
            (str(quota.client_id),),
        )
    )
    assert rows.get("active", 0) == 0 and rows["converted"] == 1
    reasons = query(
        target,
        "select distinct release_reason from cis.lead_assignments "
        "where client_id = %s and assignment_status = 'released'",
        (str(quota.client_id),),
    )
    assert ("client_cancelled",) in reasons
    sync_clients(target, clients)


def test_validation_batch_records_every_failed_rule(pool: dict) -> None:
    target = pool["target"]
    clients = [c for c in pool["clients"] if c.status == "active"]
    allocate(target, clients)
    now = datetime.now(tz=UTC)
    northwind = next(c for c in clients if c.slug == "northwind")
    lead_id = query(
        target,
        "select lead_id::text from cis.lead_assignments where client_id = %s "
        "and assignment_status = 'active' limit 1",
        (str(northwind.client_id),),
    )[0][0]
    with cursor(target) as cur:
        cur.execute(
            "insert into cis.contact_events (lead_id, client_id, channel, event_type, occurred_at)"
            " values (%s, %s, 'email', 'touch', %s), (%s, %s, 'email', 'reply', %s)",
            (
                lead_id,
                str(northwind.client_id),
                now - timedelta(days=1),
                lead_id,
                str(northwind.client_id),
                now - timedelta(hours=2),
            ),
        )
    outcome = validate_assigned(target, clients, "email", now=now)
    mine = next(r for r in outcome.results if r.lead_id == lead_id)
    assert not mine.allowed
    assert {"recent_touch_any_channel", "recent_touch_same_channel", "already_replied"} <= {
        f.rule for f in mine.failures
    }
    stored = query(
        target,
        "select count(*), count(*) filter (where not is_allowed) "
        "from cis.validation_results where validation_run_id = %s",
        (outcome.run_id,),
    )
    assert stored == [(outcome.summary.checked, outcome.summary.blocked)]


def test_deletion_request_anonymises_and_suppresses(pool: dict) -> None:
    target = pool["target"]
    email, apollo_id = query(
        target,
        "select email, id from raw_apollo.people where email is not null order by id limit 1",
    )[0]
    outcome = forget_person(target, email=email, pipelines_dir=pool["work"] / "dlt")
    assert outcome.people_rows_anonymised >= 1
    # The records stay (anonymised) under a pseudonym instead of the Apollo id.
    assert query(target, "select count(*) from raw_apollo.people where id = %s", (apollo_id,)) == [
        (0,)
    ]
    assert query(
        target,
        "select count(*), count(email) from raw_apollo.people where id = %s",
        (pseudonym(apollo_id),),
    ) == [(outcome.people_rows_anonymised, 0)]
    assert (
        query(target, "select count(*) from cis.deletion_requests where completed_at is not null")[
            0
        ][0]
        >= 1
    )
    # A later pull of the same records (the files again under new names: a file already read
    # is not read twice) must not bring the person back.
    repull = pool["work"] / "repull"
    (repull / LANDING_KIND).mkdir(parents=True)
    for path in sorted((pool["landing"] / LANDING_KIND).glob("*.jsonl")):
        shutil.copy(path, repull / LANDING_KIND / f"repull-{path.name}")
    report = ingest_landing(target, repull, pipelines_dir=pool["work"] / "dlt")
    assert report.counts.suppressed >= 1
    assert query(
        target, "select count(*) from raw_apollo.people where lower(email) = %s", (email,)
    ) == [(0,)]
    build(target, pool["work"])
    status = query(
        target,
        "select pool_status, email, deleted_at is not null from "
        "pool.dim_leads where %s = any(apollo_person_ids)",
        (pseudonym(apollo_id),),
    )
    assert status == [("do_not_contact", None, True)]


def test_deletion_request_by_linkedin_url_in_another_form(pool: dict) -> None:
    target = pool["target"]
    apollo_id, url = query(
        target,
        "select id, linkedin_url from raw_apollo.people where linkedin_url like 'http://www.%%' "
        "and email is not null order by id desc limit 1",
    )[0]
    variant = "https://" + url.removeprefix("http://www.").upper() + "/"
    outcome = forget_person(target, linkedin_url=variant, pipelines_dir=pool["work"] / "dlt")
    assert outcome.people_rows_anonymised >= 1
    assert query(
        target,
        "select count(*) from raw_apollo.people where id in (%s, %s) and "
        "(linkedin_url is not null or email is not null)",
        (apollo_id, pseudonym(apollo_id)),
    ) == [(0,)]
    assert (
        query(
            target,
            "select count(*) from cis.suppression_keys where key_kind = 'email' "
            "and deletion_request_id = %s",
            (outcome.deletion_request_id,),
        )[0][0]
        >= 1
    )
    # The rebuild `cis forget` asks for: the person's records form leads under the pseudonym.
    build(target, pool["work"])
    assert query(
        target,
        "select pool_status, email from pool.dim_leads where %s = any(apollo_person_ids)",
        (pseudonym(apollo_id),),
    ) == [("do_not_contact", None)]


def test_gaps_report_shares(pool: dict) -> None:
    gaps = {(g.mart, g.field): g for g in completeness(pool["target"])}
    email = gaps[("pool.dim_leads", "email")]
    assert 0.5 < email.share < 1.0  # LinkedIn-only people have no email
    assert gaps[("pool.dim_leads", "lead_time_zone")].share > 0.9


def test_clients_file_errors_name_the_field(tmp_path: Path) -> None:
    from cis.clients import ClientConfigError

    path = tmp_path / "clients.yml"
    path.write_text("clients:\n  - slug: acme\n    status: sleeping\n")
    with pytest.raises(ClientConfigError, match=r"acme\.status"):
        load_clients(path)
    assert Client("x1", "X", icp=Icp()).db_role == "cis_client_x1"


def test_dbt_docs_generate_documents_every_model_and_column(pool: dict) -> None:
    work = pool["work"] / "dbt"
    run_dbt(["docs", "generate", "--quiet"], transformer_target(pool["target"]), work_dir=work)
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    catalog = json.loads((work / "target" / "catalog.json").read_text())
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    assert "model.agency_cis.dim_leads" in catalog["nodes"]
    undocumented = [
        f"{node['name']}.{column}"
        for node in models.values()
        for column in catalog["nodes"].get(node["unique_id"], {}).get("columns", {})
        if not node["columns"].get(column, {}).get("description")
    ] + [node["name"] for node in models.values() if not node["description"]]
    assert undocumented == []


def test_cli_validate_exit_code_lists_every_failed_rule(pool: dict) -> None:
    from typer.testing import CliRunner

    from cis.cli import app

    target = pool["target"]
    allocate(target, pool["clients"])
    northwind = next(c for c in pool["clients"] if c.slug == "northwind")
    lead_id = query(
        target,
        "select lead_id::text from cis.lead_assignments where client_id = %s "
        "and assignment_status = 'active' order by lead_id desc limit 1",
        (str(northwind.client_id),),
    )[0][0]
    env = {"CIS_DATABASE_URL": target.url}
    runner = CliRunner()
    allowed = runner.invoke(app, ["validate", "--client", "northwind", "--lead", lead_id], env=env)
    assert allowed.exit_code == 0, allowed.output
    assert "ALLOWED" in allowed.output
    with cursor(target) as cur:
        cur.execute(
            "insert into cis.contact_events (lead_id, channel, event_type, occurred_at) values "
            "(%s, 'email', 'bounce', now() - interval '1 hour'), "
            "(%s, 'linkedin', 'touch', now() - interval '1 hour')",
            (lead_id, lead_id),
        )
    blocked = runner.invoke(app, ["validate", "--client", "northwind", "--lead", lead_id], env=env)
    assert blocked.exit_code == 1, blocked.output
    assert "BLOCKED" in blocked.output
    assert "bounced" in blocked.output and "recent_touch_any_channel" in blocked.output
    relaxed = pool["work"] / "relaxed.yml"
    relaxed.write_text("validation:\n  disabled_rules: [bounced, recent_touch_any_channel]\n")
    allowed_again = runner.invoke(
        app,
        ["validate", "--client", "northwind", "--lead", lead_id, "--settings", str(relaxed)],
        env=env,
    )
    assert allowed_again.exit_code == 0, allowed_again.output
    exported = runner.invoke(app, ["db", "env"], env=env)
    assert exported.exit_code == 0
    assert f"export CIS_DBT_DBNAME={target.dbname}" in exported.output

    # Usage errors are exit 2 with one line, never a traceback, never the batch form.
    usage_errors = {
        "empty lead": ["--client", "northwind", "--lead", ""],
        "unknown lead": ["--client", "northwind", "--lead", "00000000-0000-0000-0000-0000000000ff"],
        "lead that is no uuid": ["--client", "northwind", "--lead", "not-a-lead"],
        "unknown channel": ["--client", "northwind", "--lead", lead_id, "--channel", "fax"],
        "unknown client": ["--client", "nobody", "--lead", lead_id],
        "lead without client": ["--lead", lead_id],
        "neither lead nor --all": ["--client", "northwind"],
    }
    for case, args in usage_errors.items():
        result = runner.invoke(app, ["validate", *args], env=env)
        assert result.exit_code == 2, (case, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), case
        assert len(result.output.strip().splitlines()) == 1, (case, result.output)
        assert "error:" in result.output, case
    batch = runner.invoke(app, ["validate", "--all", "--client", "northwind"], env=env)
    assert batch.exit_code == 0, batch.output
    assert "checked" in batch.output


def test_contact_events_by_lead_or_by_email_set_pool_status(pool: dict) -> None:
    target = pool["target"]
    (by_email, email), (by_id, _) = query(
        target,
        "select lead_id::text, email from pool.dim_leads where pool_status = 'available' "
        "and email is not null order by lead_id limit 2",
    )
    with cursor(target) as cur:
        cur.execute(
            "insert into cis.contact_events (lead_id, email, channel, event_type, occurred_at) "
            "values (null, %s, 'email', 'unsubscribe', now()), "
            "(%s, null, 'sms', 'do_not_contact', now())",
            (email.upper(), by_id),
        )
    build(target, pool["work"], "dim_leads")
    statuses = dict(
        query(
            target,
            "select lead_id::text, pool_status from pool.dim_leads where lead_id in (%s, %s)",
            (by_email, by_id),
        )
    )
    assert statuses == {by_email: "unsubscribed", by_id: "do_not_contact"}


def _contract_person(index: int, **changes: object) -> dict:
    lines = (ROOT / "tests" / "fixtures" / "apollo_people_contract.jsonl").read_text().splitlines()
    return {**json.loads(lines[index]), **changes}


def _pull(pool: dict, name: str, people: list[dict]) -> None:
    """Ingest one extra landing file (``name`` starts with its pull time)."""
    folder = pool["work"] / name
    (folder / "apollo" / "people").mkdir(parents=True)
    (folder / "apollo" / "people" / f"{name}.jsonl").write_text(
        "".join(json.dumps(person) + "\n" for person in people)
    )
    ingest_landing(pool["target"], folder, pipelines_dir=pool["work"] / "dlt")


def test_deletion_request_follows_every_linked_record(pool: dict) -> None:
    target = pool["target"]
    x = _contract_person(
        0,
        id="d1" * 12,
        email="x.person@forgetme.example",
        linkedin_url="http://www.linkedin.com/in/Forget-Me",
    )
    y = _contract_person(
        1,
        id="d2" * 12,
        email="y.person@forgetme.example",
        linkedin_url="https://linkedin.com/in/forget-me/",
    )
    _pull(pool, "2026-02-01T090000Z-linked", [x, y])
    build(target, pool["work"])
    assert query(
        target,
        "select count(*) from pool.dim_leads where %s = any(apollo_person_ids) "
        "and %s = any(apollo_person_ids)",
        (x["id"], y["id"]),
    ) == [(1,)]

    outcome = forget_person(target, email=x["email"], pipelines_dir=pool["work"] / "dlt")

    assert outcome.apollo_ids == 2
    assert query(
        target,
        "select count(*), count(email), count(linkedin_url), count(first_name) "
        "from raw_apollo.people where id in (%s, %s)",
        (pseudonym(x["id"]), pseudonym(y["id"])),
    ) == [(2, 0, 0, 0)]
    assert query(
        target, "select count(*) from raw_apollo.people where id in (%s, %s)", (x["id"], y["id"])
    ) == [(0,)]
    y_email_key = identity_keys(email=y["email"])["email"]
    assert query(
        target, "select count(*) from cis.suppression_keys where key_hash = %s", (y_email_key,)
    ) == [(1,)]
    # Out of the pool at once, before any rebuild.
    assert query(
        target,
        "select pool_status, email, first_name from pool.dim_leads "
        "where %s = any(apollo_person_ids)",
        (pseudonym(y["id"]),),
    ) == [("do_not_contact", None, None)]


def test_a_merge_keeps_the_assignment_recorded_under_the_old_lead_id(pool: dict) -> None:
    target = pool["target"]
    northwind = next(c for c in pool["clients"] if c.slug == "northwind")
    first = _contract_person(2, id="e1" * 12, email="first.seen@merge.example", linkedin_url=None)
    later = _contract_person(3, id="e0" * 12, email="later.seen@merge.example", linkedin_url=None)
    _pull(pool, "2026-03-01T090000Z-first", [first])
    _pull(pool, "2026-03-02T090000Z-later", [later])
    build(target, pool["work"])
    held_id = query(
        target,
        "select lead_id::text from pool.dim_leads where %s = any(apollo_person_ids)",
        (later["id"],),
    )[0][0]
    with cursor(target) as cur:
        cur.execute(
            "insert into cis.lead_assignments (lead_id, client_id, assigned_by) "
            "values (%s, %s, 'test')",
            (held_id, str(northwind.client_id)),
        )
    # The later record turns out to share the first one's address: one person, two ids.
    _pull(pool, "2026-03-03T090000Z-merge", [{**later, "email": first["email"]}])
    build(target, pool["work"])

    merged = query(
        target,
        "select lead_id::text, pool_status, assigned_client_id::text "
        "from pool.dim_leads where %s = any(apollo_person_ids)",
        (later["id"],),
    )
    assert len(merged) == 1
    merged_id, status, holder = merged[0]
    assert merged_id != held_id  # named after the first-seen record
    assert (status, holder) == ("assigned", str(northwind.client_id))
    assert query(
        target,
        "select current_lead_id::text from pool.fct_lead_assignments where lead_id = %s",
        (held_id,),
    ) == [(merged_id,)]
    assignments = read_assignments(target)
    assert merged_id in set(assignments["lead_id"])
    outcome = allocate(target, pool["clients"])
    assert merged_id not in {a.lead_id for a in outcome.plan.assign}


# ---- pool truth: every record, pull order from the data, history, departments, reach ------------


def _landing_records(landing: Path) -> list[tuple[str, int, dict]]:
    records = []
    for path in sorted((landing / "apollo" / "people").glob("*.jsonl")):
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                payload = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(payload, dict) and payload.get("id"):
                records.append((path.name, number, payload))
    return records


def _latest_stamp(payload: dict) -> str:
    return max(
        entry.get(key) or ""
        for entry in payload.get("employment_history") or []
        for key in ("created_at", "updated_at")
    )


def test_every_landing_record_is_kept(pool: dict) -> None:
    generated, report = pool["generated"], pool["report"]
    assert generated.same_file_repeats > 0
    people_rows = query(
        pool["target"],
        "select count(*) from raw_apollo.people where _source_file = any(%s)",
        (list(generated.files),),
    )[0][0]
    assert people_rows == generated.people_lines == report.counts.people == report.stored


def test_same_file_repeats_resolve_to_the_newer_record(pool: dict) -> None:
    by_file_and_id: dict[tuple[str, str], list[dict]] = {}
    for name, _line, payload in _landing_records(pool["landing"]):
        by_file_and_id.setdefault((name, payload["id"]), []).append(payload)
    repeats = [records for records in by_file_and_id.values() if len(records) == 2]
    assert len(repeats) == pool["generated"].same_file_repeats
    orders = set()
    for first, second in repeats:
        newer, older = sorted((first, second), key=_latest_stamp, reverse=True)
        orders.add(newer is first)
        lead = query(
            pool["target"],
            "select lead_id, title, current_role_title, apollo_organization_id "
            "from pool.dim_leads where %s = any(apollo_person_ids)",
            (newer["id"],),
        )
        assert len(lead) == 1
        lead_id, title, current_role_title, organization = lead[0]
        assert (title, organization) == (newer["title"], newer["organization_id"])
        assert current_role_title == title
        versions = [
            row[0]
            for row in query(
                pool["target"],
                "select title from pool.dim_lead_attribute_history where lead_id = %s "
                "order by version_number",
                (lead_id,),
            )
        ]
        assert versions[-2:] == [older["title"], newer["title"]] or (
            older["title"] == newer["title"] and versions[-1] == newer["title"]
        )
    assert orders == {True, False}  # the newer record came first in some files, second in others


def test_attribute_history_covers_touches_before_the_first_pull(pool: dict) -> None:
    target = pool["target"]
    leads = query(target, "select count(*) from pool.dim_leads")[0][0]
    for touched_at in ("2001-01-01", "2025-06-01", "2030-01-01"):
        matches = query(
            target,
            "select count(*), count(distinct lead_id) from pool.dim_lead_attribute_history "
            "where coalesce(valid_from, '-infinity') <= %s::timestamptz "
            "and (valid_to is null or %s::timestamptz < valid_to)",
            (touched_at, touched_at),
        )[0]
        assert matches == (leads, leads), touched_at
    assert query(
        target,
        "select count(*) from pool.dim_lead_attribute_history h join pool.dim_leads l "
        "using (lead_id) where h.is_current and h.title is distinct from l.title",
    ) == [(0,)]


def test_departments_are_functional_and_email_status_survives_without_email(pool: dict) -> None:
    target = pool["target"]
    assert query(target, "select count(*) from pool.dim_leads where department = 'c_suite'") == [
        (0,)
    ]
    executives = query(
        target,
        "select departments, department from pool.dim_leads where departments ? 'c_suite'",
    )
    assert executives
    for departments, department in executives:
        masters = [d for d in departments if d.startswith("master_")]
        assert department == (masters[0].removeprefix("master_") if masters else None)
    without_email = query(
        target,
        "select count(*), count(email_status) from pool.dim_leads l where email is null and "
        "exists (select 1 from raw_apollo.people p where p.id = any(l.apollo_person_ids) "
        "and p.email_status is not null)",
    )[0]
    assert without_email[0] > 0
    assert without_email[1] == without_email[0]


def test_every_apollo_field_reaches_a_mart(pool: dict) -> None:
    from cis.jobs.reach import field_reach

    reach = field_reach(pool["target"])
    assert {r.entity for r in reach} == {"person", "organization", "employment_history"}
    assert len(reach) > 80
    missing = [(r.entity, r.field, r.values - r.reached) for r in reach if r.reached < r.values]
    assert missing == []
    organization_fields = {r.field for r in reach if r.entity == "organization"}
    assert {"secondary_industries", "primary_phone", "funding_events"} <= organization_fields


def test_a_clean_folder_builds_and_dbt_prints_plain_text(tmp_path: Path) -> None:
    """A load without a single bad line still builds (the quarantine table exists, empty)."""
    import subprocess
    import sys

    target = fresh_database(embedded_server(), "pool_clean_folder")
    bootstrap(target)
    landing = tmp_path / "landing"
    generate_landing(landing, 120, seed=5, bad_records=False)
    report = ingest_landing(target, landing, pipelines_dir=tmp_path / "dlt")
    assert report.counts.rejected == 0
    sync_clients(target, load_clients(ROOT / "config" / "clients.yml"))
    script = (
        "import sys, json; from cis.db import Target; from cis.transform import run_dbt; "
        "from pathlib import Path; "
        "run_dbt(['build', '--exclude-resource-type', 'unit_test'], "
        "Target(**json.loads(sys.argv[1])), "
        "work_dir=Path(sys.argv[2]))"
    )
    builder = transformer_target(target)
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(builder.__dict__), str(tmp_path / "dbt")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "\x1b[" not in result.stdout + result.stderr
    assert "Completed successfully" in result.stdout
    assert query(target, "select count(*) from raw_apollo.rejected_records") == [(0,)]


def test_a_client_role_reads_only_its_own_rows_in_every_relation(pool: dict) -> None:
    """Every relation a client role may select from either filters to its own rows or holds
    nothing about other clients' leads."""
    target = pool["target"]
    allocate(target, pool["clients"])
    build(target, pool["work"], "stg_cis__lead_assignments+ stg_cis__clients+ dim_organizations")
    northwind = next(c for c in pool["clients"] if c.slug == "northwind")
    as_northwind = replace(target, user=northwind.db_role, password="")
    readable = query(
        target,
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'v', 'm', 'p') and n.nspname not in "
        "('pg_catalog', 'information_schema', 'pg_toast') "
        "and has_schema_privilege(%s, n.oid, 'usage') "
        "and has_table_privilege(%s, c.oid, 'select')",
        (northwind.db_role, northwind.db_role),
    )
    held = {
        row[0]
        for row in query(
            target,
            "select distinct al.lead_id::text from cis.lead_assignments a "
            "join pool.dim_lead_aliases al on a.lead_id = al.alias_lead_id "
            "where a.client_id = %s and a.assignment_status in ('active', 'converted')",
            (str(northwind.client_id),),
        )
    }
    held_aliases = {
        row[0]
        for row in query(
            target,
            "select alias_lead_id::text from pool.dim_lead_aliases where lead_id::text = any(%s)",
            (sorted(held),),
        )
    }
    held_orgs = {
        row[0]
        for row in query(
            target,
            "select distinct organization_id::text from pool.dim_leads "
            "where lead_id::text = any(%s) and organization_id is not null",
            (sorted(held),),
        )
    }
    assert held and held_orgs
    checked = {}
    for schema, table in readable:
        columns = {
            r[0]
            for r in query(
                target,
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                (schema, table),
            )
        }
        relation = f'"{schema}"."{table}"'
        if "client_id" in columns:
            seen = {
                r[0]
                for r in query(as_northwind, f"select distinct client_id::text from {relation}")
            }
            assert seen <= {str(northwind.client_id)}, relation
            checked[relation] = "client_id"
        elif "lead_id" in columns:
            seen = {
                r[0] for r in query(as_northwind, f"select distinct lead_id::text from {relation}")
            }
            assert seen <= held | held_aliases, relation
            checked[relation] = "lead_id"
        elif "organization_id" in columns:
            seen = {
                r[0]
                for r in query(
                    as_northwind, f"select distinct organization_id::text from {relation}"
                )
            }
            assert seen <= held_orgs, relation
            checked[relation] = "organization_id"
        else:
            checked[relation] = "no client data"
            assert columns & {"email", "apollo_person_id", "linkedin_url"} == set(), relation
    assert {'"pool"."dim_lead_aliases"', '"pool"."dim_organizations"', '"pool"."dim_leads"'} <= set(
        checked
    )
    visible_orgs = query(as_northwind, "select count(*) from pool.dim_organizations")[0][0]
    assert visible_orgs == len(held_orgs)


def test_the_data_tests_pass_on_what_every_change_left(pool: dict) -> None:
    """Last in this module: the merges, deletions and job changes above kept every model's
    data tests (unique keys, relationships, accepted values) green."""
    run_dbt(
        ["test", "--quiet", "--exclude-resource-type", "unit_test"],
        transformer_target(pool["target"]),
        work_dir=pool["work"] / "dbt",
    )
