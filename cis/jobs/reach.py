"""Field reach: the share of the landing's values that reach the marts, per Apollo field.

Raw keeps every landing record, so raw is the landing as the database sees it. For each entity
the marts describe, the record they describe is compared field by field with the mart row:

- a person: the lead's newest record against ``pool.dim_leads``;
- an organization: the version ``pool.dim_organizations`` took (its ``source_record_id``);
- an employment entry: the entries of the lead's role record against ``pool.dim_lead_employment``.

A value is a non-null, non-blank field of that record (``[]`` and ``{}`` are values: an empty
list is a fact). It reaches the mart when the mapped column has a value, or when the mart's
``extra_fields`` holds it. Older records are not counted: their values were superseded by a
newer record of the same entity, and stay in raw and in ``dim_lead_attribute_history``.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from cis.db import Target, cursor, reader_target, table_columns

# Columns the loader adds (not vendor fields), and dlt's own.
_LOADER_COLUMNS = frozenset(
    {
        "_record_id",
        "_pull_id",
        "_pulled_at",
        "_pulled_at_basis",
        "_observed_at",
        "_record_hash",
        "_source",
        "_source_file",
        "_source_line",
        "_dlt_load_id",
        "_dlt_id",
    }
)


@dataclass(frozen=True)
class Entity:
    """How one raw table maps onto the mart that describes its entity."""

    name: str
    raw: str
    mart: str
    join: str  # joins raw table ``r`` to mart ``m`` (and picks the described records)
    renamed: dict[str, str]  # raw column -> mart column, where they differ
    own_columns: frozenset[str] = frozenset()  # columns the loader adds to this table


_RECORD_UUID = "md5('apollo_person_record|' || r._record_id)::uuid"

ENTITIES = (
    Entity(
        "person",
        "raw_apollo.people",
        "pool.dim_leads",
        f"inner join pool.dim_leads as m on m.latest_record_id = {_RECORD_UUID}",
        {
            "id": "apollo_person_id",
            "name": "full_name",
            "time_zone": "apollo_time_zone",
            "organization_id": "apollo_organization_id",
        },
    ),
    Entity(
        "organization",
        "raw_apollo.organizations",
        "pool.dim_organizations",
        f"inner join pool.dim_organizations as m on m.source_record_id = {_RECORD_UUID}",
        {
            "id": "apollo_organization_id",
            "name": "organization_name",
            "estimated_num_employees": "employee_count",
            "sanitized_phone": "phone",
            "phone": "phone_display",
            "latest_funding_round_date": "latest_funding_round_at",
        },
        frozenset({"person_id"}),
    ),
    Entity(
        "employment_history",
        "raw_apollo.employment_history",
        "pool.dim_lead_employment",
        f"inner join pool.dim_lead_employment as m on m.person_record_id = {_RECORD_UUID}"
        " and m.entry_index = r.entry_index",
        {
            "id": "entry_key",
            "kind": "entry_kind",
            "current": "is_current",
            "organization_id": "apollo_organization_id",
            "start_date": "start_date_text",
            "end_date": "end_date_text",
            "created_at": "entry_created_at_text",
            "updated_at": "entry_updated_at_text",
        },
        frozenset({"person_id", "entry_index", "entry_key"}),
    ),
)


@dataclass(frozen=True)
class FieldReach:
    entity: str
    field: str
    values: int  # non-blank values in the records the marts describe
    reached: int  # of those, present in the mart

    @property
    def share(self) -> float:
        return self.reached / self.values if self.values else 1.0


def _has_value(column: sql.Composable) -> sql.Composable:
    return sql.SQL("nullif(trim({}::text), '') is not null").format(column)


def entity_reach(target: Target, entity: Entity) -> list[FieldReach]:
    """One FieldReach per vendor field of ``entity`` that carries a value; [] before a build."""
    schema, table = entity.raw.split(".")
    mart_schema, mart_table = entity.mart.split(".")
    with cursor(reader_target(target)) as cur:
        raw_columns = table_columns(cur, schema, table)
        mart_columns = table_columns(cur, mart_schema, mart_table)
        if not raw_columns or not mart_columns:
            return []
        fields = sorted(raw_columns - _LOADER_COLUMNS - entity.own_columns)
        parts = []
        for name in fields:
            raw = sql.SQL("r.{}").format(sql.Identifier(name))
            target_column = entity.renamed.get(name, name)
            reached = sql.SQL("m.extra_fields ? {}").format(sql.Literal(name))
            if target_column in mart_columns:
                reached = sql.SQL("({} or m.{} is not null)").format(
                    reached, sql.Identifier(target_column)
                )
            parts.append(
                sql.SQL(
                    "count(*) filter (where {has}), count(*) filter (where {has} and {reached})"
                ).format(has=_has_value(raw), reached=reached)
            )
        query = sql.SQL("select {} from {} as r {}").format(
            sql.SQL(", ").join(parts), sql.Identifier(schema, table), sql.SQL(entity.join)
        )
        cur.execute(query)
        counts = cur.fetchone()
    reach = []
    for index, name in enumerate(fields):
        values, reached = counts[2 * index], counts[2 * index + 1]
        if values:
            reach.append(FieldReach(entity.name, name, values, reached))
    return reach


def field_reach(target: Target) -> list[FieldReach]:
    """Field reach of every Apollo entity; empty before the marts are built."""
    return [row for entity in ENTITIES for row in entity_reach(target, entity)]


def overall_share(reach: list[FieldReach]) -> float:
    values = sum(r.values for r in reach)
    return sum(r.reached for r in reach) / values if values else 1.0


def reach_by_entity(reach: list[FieldReach]) -> list[FieldReach]:
    """One row per entity, all its fields added up (field ``*``)."""
    totals: dict[str, list[int]] = {}
    for row in reach:
        total = totals.setdefault(row.entity, [0, 0])
        total[0] += row.values
        total[1] += row.reached
    return [
        FieldReach(entity, "*", values, reached) for entity, (values, reached) in totals.items()
    ]
