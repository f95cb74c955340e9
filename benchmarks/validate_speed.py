"""One-lead validation (`cis validate --lead`) at pool scale, against a plain indexed lookup.

Builds a synthetic pool of N leads straight in SQL (``insert … select generate_series``, no
ingestion or dbt): ``pool.dim_leads``, ``pool.dim_lead_aliases`` and ``pool.dim_organizations``
shaped and indexed like the dbt marts, and the operational tables from ``cis/sql/ops_schema.sql``
with four clients, assignments (some recorded under a merged lead's old id, some released or
converted) and contact events (some recorded by email only). Then it times ``validate_one`` for
a sample of leads and, as the reference in the same run, a plain
``select * from pool.dim_leads where lead_id = %s`` round trip, and prints the ratio.
Usage:

    .venv/bin/python benchmarks/validate_speed.py                 # 1,000,000 leads
    .venv/bin/python benchmarks/validate_speed.py --leads 100000 --old --batch
    .venv/bin/python benchmarks/validate_speed.py --keep           # keep the server and data
    .venv/bin/python benchmarks/validate_speed.py --pgdata DIR     # reuse what --keep left

``--old`` also times the former full-read approach (every lead, assignment and event read
into pandas), ``--batch`` the batch form (``validate_assigned``) on the same pool.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cis.bootstrap import bootstrap
from cis.clients import Client
from cis.db import Target, connect, cursor, ensure_database, start_embedded, stop_embedded
from cis.jobs.clients_sync import sync_clients
from cis.jobs.frames import current_lead_id, read_assignments, read_events, read_leads
from cis.jobs.validate import validate_assigned, validate_one
from cis.pool.validation import validate_lead

DBNAME = "bench_validate"
CLIENTS = [Client(slug, slug.title(), capacity=10**9) for slug in ("alpha", "bravo", "charlie")]
CLIENTS.append(Client("delta", "Delta", capacity=10**9, required_fields=("first_name", "title")))

# The marts' shape and indexes (dbt_project/models/marts/pool/*.sql and *.yml): the columns the
# validator reads plus enough others to give a dim_leads row its real width.
MARTS = """
create schema if not exists pool;
drop table if exists pool.dim_leads, pool.dim_lead_aliases, pool.dim_organizations cascade;
create table pool.dim_organizations (
    organization_id uuid primary key,
    apollo_organization_id text not null,
    organization_name text,
    primary_domain text,
    keywords jsonb
);
create table pool.dim_leads (
    lead_id uuid primary key,
    apollo_person_id text not null,
    apollo_person_ids text[] not null,
    identity_basis text not null,
    first_name text, last_name text, full_name text, title text, headline text,
    email text, email_status text, linkedin_url text, phone text,
    seniority text not null, department text, industry text, employee_count integer,
    country_code text, formatted_address text, lead_time_zone text,
    organization_id uuid references pool.dim_organizations (organization_id),
    company_name text, company_domain text,
    field_sources jsonb,
    enriched_at timestamptz, last_enriched_at timestamptz,
    pool_status text not null, assigned_client_id uuid, deleted_at timestamptz
);
create table pool.dim_lead_aliases (
    alias_lead_id uuid primary key,
    lead_id uuid not null,
    apollo_person_id text not null
);
"""

INDEXES = """
create index on pool.dim_organizations (primary_domain);
create index on pool.dim_leads (apollo_person_id);
create index on pool.dim_leads (email);
create index on pool.dim_leads (linkedin_url);
create index on pool.dim_leads (organization_id);
create index on pool.dim_leads (pool_status);
create index on pool.dim_leads (assigned_client_id);
create index on pool.dim_leads (seniority, department);
create index on pool.dim_lead_aliases (lead_id);
"""

# Lead i (1..n) is Apollo person 'p<i>'; every 20th lead was merged with 'q<i>', whose old id
# stays an alias. Leads 1..n*4/10 are assigned round-robin (every 50th converted, every 25th
# also has an earlier released assignment); every 7th assignment is recorded under the old id.
DATA = """
insert into pool.dim_organizations
select md5('organization|o' || o)::uuid, 'o' || o, 'Company ' || o, 'company' || o || '.com',
    jsonb_build_array('logistics', 'saas', 'k' || (o %% 50))
from generate_series(1, greatest(%(n)s / 20, 1)) as o;

insert into pool.dim_leads
select md5('lead|p' || i)::uuid, 'p' || i,
    case when i %% 20 = 0 then array['p' || i, 'q' || i] else array['p' || i] end,
    case when i %% 20 = 0 then 'email' else 'apollo_id' end,
    case when i %% 97 = 0 then null else 'Pat' || (i %% 1000) end, 'Lee' || i,
    'Pat Lee ' || i,
    case when i %% 89 = 0 then null else (array['VP Operations', 'CFO', 'Head of Sales'])[1 + i %% 3] end,
    'Operations leader at a growing logistics company, number ' || i,
    case when i %% 31 = 0 then null else 'person' || i || '@company' || (1 + i %% greatest(%(n)s / 20, 1)) || '.com' end,
    (array['verified', 'verified', 'verified', 'extrapolated', 'guessed'])[1 + i %% 5],
    case when i %% 3 = 0 then null else 'linkedin.com/in/person-' || i end,
    case when i %% 4 = 0 then '+1555' || lpad(i::text, 7, '0') end,
    (array['vp', 'director', 'manager', 'c_suite', 'entry'])[1 + i %% 5],
    (array['operations', 'finance', 'sales'])[1 + i %% 3],
    'logistics & supply chain', 10 + i %% 5000, 'US',
    i || ' Main Street, Springfield, US', 'America/Chicago',
    md5('organization|o' || (1 + i %% greatest(%(n)s / 20, 1)))::uuid,
    'Company ' || (1 + i %% greatest(%(n)s / 20, 1)),
    'company' || (1 + i %% greatest(%(n)s / 20, 1)) || '.com',
    jsonb_build_object('title', 'pull-' || i, 'email', 'pull-' || i),
    now() - interval '90 days', now() - interval '10 days',
    case
        when i %% 113 = 0 then 'bounced' when i %% 211 = 0 then 'unsubscribed'
        when i * 10 <= %(n)s * 4 then 'assigned' else 'available'
    end,
    null, null
from generate_series(1, %(n)s) as i;

insert into pool.dim_lead_aliases
select md5('lead|p' || i)::uuid, md5('lead|p' || i)::uuid, 'p' || i
from generate_series(1, %(n)s) as i
union all
select md5('lead|q' || i)::uuid, md5('lead|p' || i)::uuid, 'q' || i
from generate_series(20, %(n)s, 20) as i;

insert into cis.lead_assignments (lead_id, client_id, assignment_status, assigned_by,
    assigned_at, released_at, release_reason, converted_at)
select md5('lead|' || case when i %% 20 = 0 and i %% 7 = 0 then 'q' else 'p' end || i)::uuid,
    (%(clients)s::uuid[])[1 + i %% 4],
    case when i %% 50 = 0 then 'converted' else 'active' end, 'bench',
    now() - interval '60 days', null, null,
    case when i %% 50 = 0 then now() - interval '5 days' end
from generate_series(1, %(n)s * 4 / 10) as i
union all
select md5('lead|p' || i)::uuid, (%(clients)s::uuid[])[1 + (i + 1) %% 4], 'released', 'bench',
    now() - interval '200 days', now() - interval '100 days', 'manual', null
from generate_series(25, %(n)s * 4 / 10, 25) as i;

-- Touches on the assigned leads (0 to 11 each, on several channels), replies, bounces,
-- unsubscribes and not-interested events, and some events recorded by address only.
insert into cis.contact_events (lead_id, email, client_id, channel, event_type, occurred_at)
select md5('lead|' || case when i %% 20 = 0 and t = 1 then 'q' else 'p' end || i)::uuid, null,
    (%(clients)s::uuid[])[1 + i %% 4],
    (array['email', 'email', 'linkedin', 'sms'])[1 + (i + t) %% 4],
    case
        when t = 1 and i %% 41 = 0 then 'reply' when t = 1 and i %% 43 = 0 then 'bounce'
        when t = 1 and i %% 47 = 0 then 'not_interested' else 'touch'
    end,
    now() - make_interval(days => 1 + (i * 7 + t * 3) %% 40, hours => t)
from generate_series(1, %(n)s * 4 / 10) as i,
    generate_series(1, (i %% 12)) as t
union all
select null, upper(left(l.email, 1)) || substr(l.email, 2), null, 'email', 'unsubscribe',
    now() - interval '3 days'
from pool.dim_leads as l
where l.email is not null and l.apollo_person_id ~ '^p[0-9]*3$' and random() < 0.2;
"""


def build(target: Target, leads: int) -> None:
    """Create the synthetic pool of ``leads`` leads in ``target`` (replacing what was there)."""
    started = time.perf_counter()
    bootstrap(target)
    sync_clients(target, CLIENTS)
    with cursor(target) as cur:
        cur.execute("truncate cis.contact_events, cis.lead_assignments, cis.validation_results")
        cur.execute(MARTS)
        cur.execute("set maintenance_work_mem = '512MB'")
        cur.execute(DATA, {"n": leads, "clients": [str(c.client_id) for c in CLIENTS]})
        cur.execute(INDEXES)
        cur.execute("vacuum analyze pool.dim_leads")
        cur.execute("vacuum analyze pool.dim_lead_aliases")
        cur.execute("vacuum analyze pool.dim_organizations")
        cur.execute("vacuum analyze cis.lead_assignments")
        cur.execute("vacuum analyze cis.contact_events")
    print(f"built {leads:,} leads in {time.perf_counter() - started:.1f}s")


def counts(target: Target) -> dict[str, int]:
    tables = (
        "pool.dim_leads",
        "pool.dim_lead_aliases",
        "cis.lead_assignments",
        "cis.contact_events",
    )
    with cursor(target) as cur:
        out = {}
        for table in tables:
            cur.execute(f"select count(*) from {table}")
            out[table] = cur.fetchone()[0]
        return out


def sample(target: Target, size: int, seed: int) -> list[tuple[str, Client]]:
    """``size`` leads: half assigned (validated for their holder), half anywhere in the pool;
    some asked for by the id they had before a merge."""
    rng = random.Random(seed)
    n = counts(target)["pool.dim_leads"]
    assigned = max(n * 4 // 10, 1)
    picks = [rng.randint(1, assigned) for _ in range(size // 2)]
    picks += [rng.randint(1, n) for _ in range(size - len(picks))]
    out = []
    for k, i in enumerate(picks):
        prefix = "q" if i % 20 == 0 and k % 2 == 0 else "p"
        with cursor(target) as cur:
            cur.execute("select md5(%s)::uuid::text", (f"lead|{prefix}{i}",))
            out.append((cur.fetchone()[0], CLIENTS[i % 4]))
    return out


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def describe(name: str, ms: list[float]) -> float:
    ordered = sorted(ms)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<44} median {median:8.2f} ms   p95 {p95:8.2f} ms   (n={len(ms)})")
    return median


def old_validate_one(target: Target, client: Client, lead_id: str, now: datetime) -> object:
    """The former approach: read the whole pool, every assignment and event into pandas."""
    leads = read_leads(target)
    lead_id = current_lead_id(target, lead_id)
    match = leads[leads["lead_id"] == lead_id]
    return validate_lead(
        match.iloc[0].to_dict(),
        client,
        "email",
        read_assignments(target),
        read_events(target),
        now,
    )


def run(target: Target, leads_wanted: int, size: int, old: bool, batch: bool) -> None:
    figures = counts(target)
    print(", ".join(f"{t} {c:,}" for t, c in figures.items()))
    picks = sample(target, size, seed=5)
    now = datetime.now(tz=UTC)

    # Warm the caches the same way for both (one pass each, untimed).
    for lead_id, client in picks:
        validate_one(target, client, lead_id, "email", now=now)

    def lookup(lead_id: str) -> Callable[[], object]:
        def fn() -> object:
            conn = connect(target)
            try:
                with conn.cursor() as cur:
                    cur.execute("select * from pool.dim_leads where lead_id = %s", (lead_id,))
                    return cur.fetchall()
            finally:
                conn.close()

        return fn

    conn = connect(target)

    def lookup_open(lead_id: str) -> Callable[[], object]:
        def fn() -> object:
            with conn.cursor() as cur:
                cur.execute("select * from pool.dim_leads where lead_id = %s", (lead_id,))
                return cur.fetchall()

        return fn

    reference, reference_open, measured = [], [], []
    for lead_id, client in picks:  # interleaved, so drift hits both alike
        reference += timed(lookup(lead_id), 1)
        reference_open += timed(lookup_open(lead_id), 1)
        measured += timed(lambda c=client, i=lead_id: validate_one(target, c, i, "email"), 1)
    conn.close()
    print()
    ref = describe("reference: connect + indexed dim_leads lookup", reference)
    ref_open = describe("reference: the lookup on an open connection", reference_open)
    med = describe("validate_one (connects, reads, validates)", measured)
    print(f"ratio validate_one / connect+lookup: {med / ref:.2f}x")
    print(f"ratio validate_one / lookup alone:   {med / ref_open:.2f}x")

    if old:
        lead_id, client = picks[0]
        old_ms = timed(lambda: old_validate_one(target, client, lead_id, now), 3)
        old_med = describe("former full-read validate_one", old_ms)
        print(f"ratio former / validate_one: {old_med / med:.0f}x")
        new = validate_one(target, client, lead_id, "email", now=now)
        assert new == old_validate_one(target, client, lead_id, now), "results differ"

    if batch:
        started = time.perf_counter()
        outcome = validate_assigned(target, CLIENTS, "email", now=now)
        seconds = time.perf_counter() - started
        print(
            f"batch validate_assigned: {outcome.summary.checked:,} leads in {seconds:.1f}s "
            f"({outcome.summary.checked / seconds:,.0f} leads/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50, help="leads timed (default 50)")
    parser.add_argument("--pgdata", type=Path, help="reuse (or create) the server in DIR")
    parser.add_argument("--keep", action="store_true", help="leave the server and data behind")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if the size fits")
    parser.add_argument("--old", action="store_true", help="also time the former full read")
    parser.add_argument("--batch", action="store_true", help="also time the batch form")
    args = parser.parse_args()
    work = args.pgdata.parent if args.pgdata else Path(tempfile.mkdtemp(prefix="cis-bench-"))
    pgdata = args.pgdata or work / "pgdata"
    server = start_embedded(pgdata, dbname="postgres")
    keep = args.keep or args.pgdata is not None
    try:
        ensure_database(server, DBNAME)
        target = replace(server, dbname=DBNAME)
        if args.rebuild or _size(target) != args.leads:
            build(target, args.leads)
        else:
            print(f"reusing {args.leads:,} leads in {pgdata}")
        run(target, args.leads, args.sample, args.old, args.batch)
    finally:
        if keep:
            print(f"kept: --pgdata {pgdata}")
        else:
            stop_embedded(pgdata)
            shutil.rmtree(work, ignore_errors=True)


def _size(target: Target) -> int | None:
    with cursor(target) as cur:
        cur.execute("select to_regclass('pool.dim_leads') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute("select count(*) from pool.dim_leads")
        return cur.fetchone()[0]


if __name__ == "__main__":
    main()
