"""Pool figures for the demo's closing summary, measured in the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from dlt.common.normalizers.naming.snake_case import NamingConvention

from cis.db import Target, cursor, reader_target, table_columns
from cis.jobs.reach import field_reach


@dataclass(frozen=True)
class PoolFigures:
    person_rows: int
    apollo_ids: int
    leads: int
    duplicates_merged: int  # Apollo ids folded into another lead by identity resolution
    repulls_merged: int  # further records of an Apollo id (re-pulls, repeats in one file)
    status_counts: dict[str, int]
    verified_share: float
    assignments_by_client: dict[str, int]
    collisions: int  # leads held by more than one client at once
    held_leads: int
    utilisation: float  # held / (held + available)
    fields_seen: int = 0
    fields_stored: int = 0
    missing_fields: list[str] = field(default_factory=list)
    history_versions: int = 0
    leads_with_history: int = 0  # leads with more than one attribute version
    reach_values: int = 0  # landing values in the records the marts describe
    reach_reached: int = 0  # of those, present in a mart
    reach_missing: list[str] = field(default_factory=list)  # entity.field not fully reached

    @property
    def reach_share(self) -> float:
        return self.reach_reached / self.reach_values if self.reach_values else 1.0

    @property
    def collision_rate(self) -> float:
        return self.collisions / self.held_leads if self.held_leads else 0.0

    @property
    def fields_stored_share(self) -> float:
        return self.fields_stored / self.fields_seen if self.fields_seen else 1.0


def stored_fields(target: Target, fields_seen: set[str]) -> tuple[int, list[str]]:
    """How many payload fields that carried a value have a raw column (or table) to live in."""
    naming = NamingConvention()
    with cursor(reader_target(target)) as cur:
        people, orgs = (
            table_columns(cur, "raw_apollo", "people"),
            table_columns(cur, "raw_apollo", "organizations"),
        )
        history = bool(table_columns(cur, "raw_apollo", "employment_history"))
    missing = []
    for name in sorted(fields_seen):
        if name == "employment_history":
            ok = history
        elif name == "organization":
            ok = bool(orgs)
        elif name.startswith("organization."):
            ok = naming.normalize_identifier(name.split(".", 1)[1]) in orgs
        else:
            ok = naming.normalize_identifier(name) in people
        if not ok:
            missing.append(name)
    return len(fields_seen) - len(missing), missing


def pool_figures(target: Target, fields_seen: set[str] | None = None) -> PoolFigures:
    with cursor(reader_target(target)) as cur:
        cur.execute("select count(*), count(distinct id) from raw_apollo.people")
        person_rows, apollo_ids = cur.fetchone()
        cur.execute(
            "select count(*), coalesce(avg((email_status = 'verified')::int) "
            "filter (where email is not null), 0) from pool.dim_leads"
        )
        leads, verified = cur.fetchone()
        cur.execute("select pool_status, count(*) from pool.dim_leads group by 1 order by 1")
        statuses = dict(cur.fetchall())
        cur.execute(
            "select c.client_slug, count(a.*) filter (where a.assignment_status = 'active') "
            "from cis.clients c left join cis.lead_assignments a using (client_id) "
            "group by 1 order by 1"
        )
        by_client = dict(cur.fetchall())
        # Per person, not per recorded id: a merge can make two ids one lead (dim_lead_aliases).
        cur.execute(
            "select count(*) filter (where holders > 1), count(*) from ("
            " select coalesce(al.lead_id, a.lead_id), count(distinct a.client_id) as holders"
            " from cis.lead_assignments a"
            " left join pool.dim_lead_aliases al on a.lead_id = al.alias_lead_id"
            " where a.assignment_status in ('active', 'converted') group by 1) t"
        )
        collisions, held = cur.fetchone()
        cur.execute("select count(*) from pool.dim_leads where pool_status = 'available'")
        available = cur.fetchone()[0]
        cur.execute(
            "select count(*), count(distinct lead_id) filter (where version_number > 1) "
            "from pool.dim_lead_attribute_history"
        )
        versions, changed = cur.fetchone()
    stored, missing = stored_fields(target, fields_seen or set())
    reach = field_reach(target)
    return PoolFigures(
        person_rows=person_rows,
        apollo_ids=apollo_ids,
        leads=leads,
        duplicates_merged=apollo_ids - leads,
        repulls_merged=person_rows - apollo_ids,
        status_counts=statuses,
        verified_share=float(verified),
        assignments_by_client=by_client,
        collisions=collisions,
        held_leads=held,
        utilisation=held / (held + available) if held + available else 0.0,
        fields_seen=len(fields_seen or ()),
        fields_stored=stored,
        missing_fields=missing,
        history_versions=versions,
        leads_with_history=changed,
        reach_values=sum(r.values for r in reach),
        reach_reached=sum(r.reached for r in reach),
        reach_missing=[f"{r.entity}.{r.field}" for r in reach if r.reached < r.values],
    )
