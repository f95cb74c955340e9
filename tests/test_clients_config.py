"""The clients file: strict validation, vendor campaigns, employee bands, sending settings, and
the allocator's daily new-lead cap (pure, and against the real database)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cis.bootstrap import bootstrap
from cis.clients import (
    DEFAULT_SENDING_DAYS,
    Client,
    ClientConfigError,
    Icp,
    campaign_owners,
    load_clients,
    parse_clients,
    parse_employee_band,
)
from cis.db import Target, cursor
from cis.jobs.allocate import allocate
from cis.jobs.clients_sync import sync_clients
from cis.pool.allocation import assigned_today, local_day_bounds, plan_allocation
from cis.pool.icp import criteria_met, icp_score, specified_criteria, without_criterion
from tests.pg import query

ROOT = Path(__file__).resolve().parents[1]


def base_client(slug: str = "acme", **extra: object) -> dict:
    return {"slug": slug, "name": slug.title(), "capacity": 10, **extra}


def parse_one(**extra: object) -> Client:
    return parse_clients({"clients": [base_client(**extra)]})[0]


def error_of(data: object) -> str:
    with pytest.raises(ClientConfigError) as caught:
        parse_clients(data)
    return str(caught.value)


# ---- the repository's own file ------------------------------------------------------------------


def test_repo_clients_file_uses_the_new_keys() -> None:
    clients = {c.slug: c for c in load_clients(ROOT / "config" / "clients.yml")}
    northwind, ledgerly, quotaforge = (clients[s] for s in ("northwind", "ledgerly", "quotaforge"))
    assert northwind.campaigns.smartlead == ("1847213",)
    assert northwind.campaigns.twilio == ("+13125550188",)
    assert northwind.daily_new_leads == 60 and northwind.time_zone == "America/Chicago"
    assert northwind.icp.employee_bands[0] == (51, 200)
    assert (northwind.icp.employee_min, northwind.icp.employee_max) == (51, 5000)  # the hull
    assert ledgerly.icp.countries == ("US", "GB", "CA", "AU")  # written as names
    assert quotaforge.campaigns.salesforge == ("seq_4kq9z2m7v1x8b3n5c6d0f", "48213")
    assert quotaforge.sending_days == ("mon", "tue", "wed", "thu")
    assert quotaforge.daily_new_leads is None
    assert clients["harborline"].sending_days == DEFAULT_SENDING_DAYS
    assert clients["harborline"].time_zone == "UTC"
    owners = campaign_owners(clients.values())
    assert owners[("heyreach", "118207")] == "quotaforge"
    assert owners[("crm.pipeline_ids", "default")] == "northwind"


# ---- unknown keys at every level ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"clients": [base_client()], "client": []},
            "clients file: unknown key 'client' (did you mean 'clients'?)",
        ),
        (
            {"clients": [base_client(capacty=3)]},
            "client acme: unknown key 'capacty' (did you mean 'capacity'?)",
        ),
        (
            {"clients": [base_client(icp={"employe_range": [1, 10]})]},
            "client acme.icp: unknown key 'employe_range' (did you mean 'employee_range'",
        ),
        (
            {"clients": [base_client(campaigns={"smartlaed": [1]})]},
            "client acme.campaigns: unknown key 'smartlaed' (did you mean 'smartlead'?)",
        ),
        (
            {"clients": [base_client(campaigns={"crm": {"owners": [1]}})]},
            "client acme.campaigns.crm: unknown key 'owners'",
        ),
        (
            {"clients": [base_client(zzz=1, yyy=2)]},
            "client acme: unknown keys 'zzz', 'yyy'",
        ),
    ],
)
def test_unknown_keys_are_errors_naming_the_full_path(data: dict, message: str) -> None:
    assert message in error_of(data)


def test_load_clients_prefixes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clients.yml"
    path.write_text("clients:\n  - slug: northwind\n    icp:\n      employe_range: [1, 10]\n")
    with pytest.raises(
        ClientConfigError, match=r"clients\.yml: client northwind\.icp: unknown key"
    ):
        load_clients(path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"icp": ["titles"]}, "client acme.icp: expected a mapping, got list"),
        ({"campaigns": {"crm": [1]}}, "client acme.campaigns.crm: expected a mapping"),
        ({"capacity": -1}, "client acme.capacity: expected a whole number >= 0"),
        ({"capacity": True}, "client acme.capacity: expected a whole number >= 0"),
        ({"daily_new_leads": -5}, "client acme.daily_new_leads: expected a whole number >= 0"),
        ({"daily_sends": "lots"}, "client acme.daily_sends: expected a whole number >= 0"),
        ({"min_icp_score": "high"}, "client acme.min_icp_score: expected 0..1"),
        ({"icp": {"titles": [["a"]]}}, "client acme.icp.titles: expected a list of text"),
    ],
)
def test_bad_values_name_the_key(extra: dict, message: str) -> None:
    assert message in error_of({"clients": [base_client(**extra)]})


def test_top_level_must_be_a_clients_list() -> None:
    assert "expected a non-empty 'clients' list" in error_of({})
    assert "expected a non-empty 'clients' list" in error_of(None)
    assert "clients file: expected a mapping" in error_of(["x"])
    assert "duplicate slug 'acme'" in error_of({"clients": [base_client(), base_client()]})


# ---- countries ------------------------------------------------------------------------------------


def test_countries_accept_codes_and_names_case_insensitively() -> None:
    client = parse_one(
        icp={"countries": ["us", "United Kingdom", "germany", "UK", " New  Zealand "]}
    )
    assert client.icp.countries == ("US", "GB", "DE", "NZ")  # UK is GB: de-duplicated


def test_unknown_country_names_client_key_value_and_close_matches() -> None:
    message = error_of({"clients": [base_client(icp={"countries": ["US", "Untied States"]})]})
    assert message.startswith("client acme.icp.countries: unknown country 'Untied States'")
    assert "did you mean 'United States'" in message
    assert "country_codes.csv" in message
    # a real country missing from the list is an error too, never upper-cased into a code
    message = error_of({"clients": [base_client(icp={"countries": ["Kenya"]})]})
    assert "unknown country 'Kenya'" in message
    assert "add the country there" in message


def test_unquoted_norway_is_explained() -> None:
    message = error_of({"clients": [base_client(icp={"countries": [False]})]})
    assert "client acme.icp.countries: False is not a country" in message
    assert "'NO'" in message


# ---- employee bands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ("1,10", (1, 10)),
        (" 51 , 200 ", (51, 200)),
        ("10001,", (10001, None)),
        ("10001+", (10001, None)),
        ("201-500", (201, 500)),
        ([5, None], (5, None)),
    ],
)
def test_employee_bands_parse(band: object, expected: tuple) -> None:
    assert parse_employee_band(band) == expected


@pytest.mark.parametrize(
    ("bands", "fragment"),
    [
        (["200,51"], "'200,51' is not an employee band: expected 0 <= low <= high"),
        (["small"], "'small' is not an employee band: write 'low,high'"),
        ([1, 10], "1 is not an employee band: quote each band"),  # YAML [1,10, 11,50]
        ([["a", 3]], "is not an employee band: expected [low, high]"),
    ],
)
def test_bad_employee_bands_are_errors(bands: list, fragment: str) -> None:
    message = error_of({"clients": [base_client(icp={"employee_ranges": bands})]})
    assert message.startswith("client acme.icp.employee_ranges: ")
    assert fragment in message


def test_bands_are_normalised_and_give_the_hull() -> None:
    icp = parse_one(icp={"employee_ranges": ["201,500", "1,10", "1,10", "10001+"]}).icp
    assert icp.employee_ranges == ("1,10", "201,500", "10001,")
    assert icp.employee_bands == ((1, 10), (201, 500), (10001, None))
    assert (icp.employee_min, icp.employee_max) == (1, None)
    closed = parse_one(icp={"employee_ranges": ["11,50", "501,1000"]}).icp
    assert (closed.employee_min, closed.employee_max) == (11, 1000)


def test_employee_range_forms_still_work_and_do_not_mix() -> None:
    assert parse_one(icp={"employee_range": [50, 5000]}).icp.employee_bands == ((50, 5000),)
    assert parse_one(icp={"employee_range": [None, 200]}).icp.employee_bands == ((0, 200),)
    assert parse_one(icp={"employee_min": 500}).icp.employee_bands == ((500, None),)
    assert parse_one(icp={}).icp.employee_bands == ()
    both = {"employee_ranges": ["1,10"], "employee_min": 5}
    assert "give employee_ranges (bands) or employee_min, not both" in error_of(
        {"clients": [base_client(icp=both)]}
    )
    assert "not both" in error_of(
        {"clients": [base_client(icp={"employee_range": [1, 9], "employee_max": 5})]}
    )
    assert "employee maximum 5 is below the minimum 9" in error_of(
        {"clients": [base_client(icp={"employee_range": [9, 5]})]}
    )
    assert "client acme.icp.employee_range: expected [min, max]" in error_of(
        {"clients": [base_client(icp={"employee_range": "50,200"})]}
    )


def test_bands_score_as_a_union_of_ranges() -> None:
    counts = [5, 50, 300, 600, 20000, None]
    leads = pd.DataFrame({"lead_id": [str(i) for i in range(6)], "employee_count": counts})
    icp = Icp(employee_ranges=("1,10", "201,500", "10001,"))
    assert specified_criteria(icp) == ("employee_range",)
    met = criteria_met(leads, icp)["employee_range"].tolist()
    assert met == [True, False, True, False, True, False]
    assert icp_score(leads, icp).tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    # the hull set by the parser does not widen the match: 50 and 600 stay out
    parsed = parse_one(icp={"employee_ranges": list(icp.employee_ranges)}).icp
    assert criteria_met(leads, parsed)["employee_range"].tolist() == met
    assert specified_criteria(without_criterion(parsed, "employee_range")) == ()
    # alongside other criteria the band is one weighted criterion among them
    mixed = Icp(seniorities=("vp",), employee_ranges=("1,10",))
    scored = icp_score(leads.assign(seniority=["vp", "vp", None, None, None, None]), mixed)
    assert scored.tolist() == [1.0, 0.75, 0.0, 0.0, 0.0, 0.0]


# ---- campaigns ------------------------------------------------------------------------------------


def test_campaign_ids_are_text_and_phones_e164() -> None:
    client = parse_one(
        campaigns={
            "smartlead": [1847213, "1847213", " 99 "],
            "salesforge": "seq_abc",
            "twilio": ["+1 (312) 555-0188", "+13125550188"],
            "crm": {"owner_ids": [81734291], "pipeline_ids": ["default"]},
        }
    )
    assert client.campaigns.smartlead == ("1847213", "99")
    assert client.campaigns.salesforge == ("seq_abc",)
    assert client.campaigns.twilio == ("+13125550188",)
    assert client.campaigns.crm.owner_ids == ("81734291",)
    assert ("crm.pipeline_ids", "default") in client.campaigns.claims()


@pytest.mark.parametrize(
    ("campaigns", "fragment"),
    [
        ({"twilio": [13125550188]}, "13125550188 is not an E.164 number: quote it"),
        ({"twilio": ["312-555-0188"]}, "'312-555-0188' is not an E.164 number"),
        ({"twilio": ["+0123"]}, "is not an E.164 number"),
        ({"smartlead": [1.5]}, "1.5 is not an id"),
        ({"heyreach": [""]}, "'' is not an id"),
        ({"smartlead": {"a": 1}}, "expected a list, got dict"),
    ],
)
def test_bad_campaign_values_are_errors(campaigns: dict, fragment: str) -> None:
    message = error_of({"clients": [base_client(campaigns=campaigns)]})
    assert message.startswith("client acme.campaigns.")
    assert fragment in message


@pytest.mark.parametrize(
    ("first", "second", "path", "value"),
    [
        ({"smartlead": [1847213]}, {"smartlead": ["1847213"]}, "smartlead", "1847213"),
        ({"twilio": ["+13125550188"]}, {"twilio": ["+1 312 555 0188"]}, "twilio", "+13125550188"),
        (
            {"crm": {"pipeline_ids": ["default"]}},
            {"crm": {"pipeline_ids": ["default"]}},
            "crm.pipeline_ids",
            "default",
        ),
    ],
)
def test_a_campaign_claimed_by_two_clients_names_both(
    first: dict, second: dict, path: str, value: str
) -> None:
    data = {
        "clients": [
            base_client("alpha", campaigns=first),
            base_client("bravo", status="cancelled", campaigns=second),
        ]
    }
    message = error_of(data)
    assert message.startswith(f"client bravo.campaigns.{path}: {value!r} is also claimed")
    assert "client alpha" in message


def test_the_same_id_for_different_vendors_is_fine() -> None:
    clients = parse_clients(
        {
            "clients": [
                base_client("alpha", campaigns={"smartlead": [7]}),
                base_client("bravo", campaigns={"heyreach": [7], "crm": {"owner_ids": [7]}}),
            ]
        }
    )
    assert campaign_owners(clients)[("heyreach", "7")] == "bravo"


# ---- sending settings -----------------------------------------------------------------------------


def test_sending_days_and_time_zone_are_normalised() -> None:
    client = parse_one(sending_days=["Friday", "mon", "TUE", "mon"], time_zone="america/chicago")
    assert client.sending_days == ("mon", "tue", "fri")
    assert client.time_zone == "America/Chicago"
    assert str(client.zone) == "America/Chicago"
    assert parse_one(time_zone="utc").time_zone == "UTC"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"time_zone": "America/Chicgo"}, "'America/Chicgo' is not an IANA time zone"),
        ({"time_zone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA time zone"),
        ({"time_zone": "America"}, "'America' is not an IANA time zone"),
        ({"time_zone": "../etc/passwd"}, "is not an IANA time zone"),
        ({"time_zone": 5}, "expected an IANA time zone name"),
        ({"sending_days": ["mon", "funday"]}, "'funday' is not a weekday"),
        ({"sending_days": []}, "expected at least one weekday"),
    ],
)
def test_bad_sending_settings_are_errors(extra: dict, fragment: str) -> None:
    message = error_of({"clients": [base_client(**extra)]})
    key = next(iter(extra))
    assert message.startswith(f"client acme.{key}: ")
    assert fragment in message


def test_time_zone_error_suggests_close_zones() -> None:
    message = error_of({"clients": [base_client(time_zone="America/Chicgo")]})
    assert "did you mean 'America/Chicago'" in message


def test_config_hash_covers_the_new_settings() -> None:
    base = parse_one()
    variants = [
        parse_one(campaigns={"smartlead": [1]}),
        parse_one(daily_new_leads=5),
        parse_one(daily_sends=5),
        parse_one(sending_days=["mon"]),
        parse_one(time_zone="Europe/Berlin"),
        parse_one(icp={"employee_ranges": ["1,10"]}),
    ]
    hashes = {base.config_hash, *(v.config_hash for v in variants)}
    assert len(hashes) == len(variants) + 1
    assert parse_one().config_hash == base.config_hash


def test_parsing_does_not_modify_its_input() -> None:
    data = {"clients": [base_client(icp={"countries": ["us"], "employee_ranges": ["1,10"]})]}
    before = copy.deepcopy(data)
    parse_clients(data)
    assert data == before


# ---- the daily new-lead cap -----------------------------------------------------------------------


def lead_uuid(i: int) -> str:
    return str(uuid.UUID(int=0xC1 << 120 | i))


def make_leads(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "lead_id": lead_uuid(i),
                "email": f"p{i}@co{i}.example",
                "email_status": "verified",
                "seniority": "vp",
                "employee_count": 100,
                "country_code": "US",
                "company_name": f"Co {i}",
                "company_domain": f"co{i}.example",
                "pool_status": "available",
            }
            for i in range(count)
        ]
    )


def capped_client(**overrides: object) -> Client:
    fields = {
        "slug": "capped",
        "name": "Capped",
        "capacity": 100,
        "min_icp_score": 0.0,
        "icp": Icp(seniorities=("vp",)),
        "daily_new_leads": 3,
        "time_zone": "America/Chicago",
    }
    fields.update(overrides)
    return Client(**fields)


def test_local_day_bounds_follow_the_client_zone() -> None:
    # 2026-03-10 04:00 UTC is still 9 March in Chicago (CDT, UTC-5)
    start, end = local_day_bounds(datetime(2026, 3, 10, 4, tzinfo=UTC), "America/Chicago")
    assert (start, end) == (
        pd.Timestamp("2026-03-09 05:00", tz="UTC"),
        pd.Timestamp("2026-03-10 05:00", tz="UTC"),
    )
    # the spring-forward day is 23 hours long
    start, end = local_day_bounds(datetime(2026, 3, 8, 12, tzinfo=UTC), "America/Chicago")
    assert end - start == pd.Timedelta(hours=23)


def test_plan_counts_todays_assignments_in_the_client_zone() -> None:
    client = capped_client()
    other = capped_client(slug="other", daily_new_leads=None)
    now = pd.Timestamp("2026-03-10 15:00", tz="UTC")  # 10:00 in Chicago
    history = pd.DataFrame(
        [
            # yesterday evening in Chicago, today in UTC: does not count
            (lead_uuid(900), client.client_id, "active", "2026-03-10 04:00+00:00", None),
            # this morning in Chicago, released since: counts
            (lead_uuid(901), client.client_id, "released", "2026-03-10 06:00+00:00", now),
            # another client's assignment: does not count
            (lead_uuid(902), other.client_id, "active", "2026-03-10 14:00+00:00", None),
        ],
        columns=["lead_id", "client_id", "assignment_status", "assigned_at", "released_at"],
    ).assign(assignment_id=lambda f: [str(uuid.uuid4()) for _ in range(len(f))])
    assert assigned_today(history, client, now) == 1
    assert assigned_today(history, replace(client, time_zone="UTC"), now) == 2

    plan = plan_allocation(make_leads(10), history, [client], now)
    summary = plan.summary_for("capped")
    assert summary is not None
    assert (summary.assigned_today_before, summary.assigned_now) == (1, 2)
    assert summary.daily_new_leads_left == 0
    assert summary.open_capacity_before == 2  # the daily room, not the 99 open slots
    assert summary.shortfall == 0  # held back by the cap, not short of leads
    assert summary.open_capacity_after == 100 - 1 - 2

    zero = plan_allocation(make_leads(10), None, [capped_client(daily_new_leads=0)], now)
    assert zero.assign == [] and zero.summaries[0].shortfall == 0

    # without a cap nothing changes: capacity is the only limit
    free = plan_allocation(make_leads(10), None, [capped_client(daily_new_leads=None)], now)
    assert len(free.assign) == 10 and free.summaries[0].daily_new_leads_left is None


def test_cap_shortfall_counts_only_slots_the_day_allows() -> None:
    now = pd.Timestamp("2026-03-10 15:00", tz="UTC")
    plan = plan_allocation(make_leads(2), None, [capped_client(daily_new_leads=5)], now)
    summary = plan.summaries[0]
    assert (summary.assigned_now, summary.shortfall, summary.open_capacity_before) == (2, 3, 5)


def _aliases_table(target: Target) -> None:
    """The one pool relation the allocator reads besides the leads frame it is given."""
    with cursor(target) as cur:
        cur.execute(
            "create schema if not exists pool authorization cis_transformer; "
            "create table if not exists pool.dim_lead_aliases "
            "(alias_lead_id uuid primary key, lead_id uuid not null); "
            # The transformer owns the marts, as when dbt builds them (verbs read them as it).
            "alter table pool.dim_lead_aliases owner to cis_transformer"
        )


def test_allocator_respects_the_daily_cap_in_the_database(target: Target) -> None:
    bootstrap(target)
    bootstrap(target)  # the additive columns are idempotent
    _aliases_table(target)
    client = capped_client(
        campaigns=parse_one(campaigns={"smartlead": [1847213]}).campaigns,
        sending_days=("mon", "wed"),
    )
    uncapped = capped_client(slug="uncapped", daily_new_leads=None, capacity=2)
    clients = [client, uncapped]
    assert sync_clients(target, clients) == 2
    leads = make_leads(20)

    def held(c: Client) -> int:
        return query(
            target,
            "select count(*) from cis.lead_assignments where client_id = %s",
            (str(c.client_id),),
        )[0][0]

    # 08:00 and 17:00 in Chicago on the same day, then 08:00 the next day
    morning = datetime(2026, 3, 10, 13, tzinfo=UTC)
    first = allocate(target, clients, now=morning, leads=leads)
    assert first.plan.summary_for("capped").assigned_now == 3
    assert (held(client), held(uncapped)) == (3, 2)

    later = allocate(target, clients, now=morning + timedelta(hours=9), leads=leads)
    assert later.inserted == 0
    assert later.plan.summary_for("capped").assigned_today_before == 3
    assert any("daily cap of 3" in note for note in later.shortfall_notes)
    assert held(client) == 3

    # a release does not give the day's slot back
    with cursor(target) as cur:
        cur.execute(
            "update cis.lead_assignments set assignment_status = 'released', "
            "released_at = %s, release_reason = 'manual' where assignment_id = "
            "(select assignment_id from cis.lead_assignments where client_id = %s limit 1)",
            (morning + timedelta(hours=10), str(client.client_id)),
        )
    assert allocate(target, clients, now=morning + timedelta(hours=10), leads=leads).inserted == 0

    # 23:30 in Chicago is still the same local day although it is the next day in UTC
    late = allocate(target, clients, now=datetime(2026, 3, 11, 4, 30, tzinfo=UTC), leads=leads)
    assert late.inserted == 0

    next_day = allocate(target, clients, now=morning + timedelta(days=1), leads=leads)
    assert next_day.inserted == 3
    assert held(client) == 6
    active = query(
        target,
        "select count(*) from cis.lead_assignments where client_id = %s "
        "and assignment_status = 'active'",
        (str(client.client_id),),
    )[0][0]
    assert active == 5
    summary = query(
        target,
        "select summary from cis.allocation_runs order by started_at desc limit 1",
    )[0][0]
    row = next(r for r in summary["clients"] if r["client"] == "capped")
    assert (row["daily_new_leads"], row["assigned_today_before"], row["daily_new_leads_left"]) == (
        3,
        0,
        0,
    )


def test_sync_stores_campaigns_and_sending_settings(target: Target) -> None:
    bootstrap(target)
    clients = load_clients(ROOT / "config" / "clients.yml")
    sync_clients(target, clients)
    rows = {
        slug: rest
        for slug, *rest in query(
            target,
            "select client_slug, campaigns, daily_new_leads, daily_sends, sending_days, "
            "time_zone, icp, config_hash from cis.clients",
        )
    }
    campaigns, daily_new, daily_sends, days, zone, icp, config_hash = rows["northwind"]
    assert campaigns["smartlead"] == ["1847213"]
    assert campaigns["crm"] == {"owner_ids": [], "pipeline_ids": ["default"]}
    assert (daily_new, daily_sends, zone) == (60, 400, "America/Chicago")
    assert days == ["mon", "tue", "wed", "thu", "fri"]
    assert icp["employee_ranges"][0] == "51,200"
    northwind = next(c for c in clients if c.slug == "northwind")
    assert config_hash == northwind.config_hash
    assert rows["quotaforge"][1] is None  # no daily cap
    assert rows["quotaforge"][3] == ["mon", "tue", "wed", "thu"]

    changed = [replace(c, daily_new_leads=7) if c.slug == "northwind" else c for c in clients]
    sync_clients(target, changed)
    after = query(
        target,
        "select daily_new_leads, config_hash from cis.clients where client_slug = 'northwind'",
    )[0]
    assert after[0] == 7 and after[1] != config_hash
    assert rows["harborline"][0]["twilio"] == []
