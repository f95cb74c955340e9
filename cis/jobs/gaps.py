"""``cis gaps``: per mart and field the detectors rely on, the share of rows that have a value."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from cis.db import Target, cursor, reader_target

# Fields the detectors will rely on, by mart. A value listed as "missing" counts as no value.
DETECTOR_FIELDS: dict[str, tuple[str, ...]] = {
    "pool.dim_leads": (
        "email",
        "linkedin_url",
        "phone",
        "first_name",
        "title",
        "headline",
        "seniority",
        "department",
        "industry",
        "employee_count",
        "company_size_band",
        "country_code",
        "lead_time_zone",
        "company_domain",
        "current_role_started_on",
        "organization_id",
    ),
    "pool.dim_organizations": (
        "industry",
        "employee_count",
        "annual_revenue",
        "total_funding",
        "latest_funding_stage",
        "founded_year",
        "keywords",
        "technology_names",
        "funding_events",
        "departmental_head_count",
    ),
    "pool.dim_lead_attribute_history": (
        "title",
        "seniority",
        "department",
        "company_name",
        "industry",
        "employee_count",
    ),
    "engagement.fct_activities": (
        "lead_id",
        "client_id",
        "template_id",
        "ab_variant",
        "subject",
        "full_message_body",
        "local_sent_at",
        "touch_number",
    ),
    "engagement.fct_email_events": ("lead_id", "client_id", "message_key", "delivered_at"),
    "engagement.fct_activity_engagement": ("lead_id", "first_open_at", "replied_at"),
    "content.dim_templates": ("client_id", "subject_template", "body_template"),
    "funnel.fct_meetings": (
        "lead_id",
        "client_id",
        "meeting_outcome",
        "booked_at",
        "positive_reply_id",
        "last_touch_activity_id",
        "is_confirmed",
        "is_reminder_sent",
    ),
    "funnel.fct_deals": (
        "lead_id",
        "client_id",
        "amount",
        "currency",
        "first_touch_activity_id",
    ),
    "funnel.fct_lead_funnel": ("first_touch_at", "first_touch_template_id", "first_touch_variant"),
}
MISSING_VALUES: dict[str, str] = {"seniority": "unknown"}


@dataclass(frozen=True)
class Gap:
    mart: str
    field: str
    rows: int
    filled: int

    @property
    def share(self) -> float:
        return self.filled / self.rows if self.rows else 0.0


def _filled(column: str) -> sql.Composable:
    if column in MISSING_VALUES:
        return sql.SQL("count(nullif({}, {}))").format(
            sql.Identifier(column), sql.Literal(MISSING_VALUES[column])
        )
    return sql.SQL("count({})").format(sql.Identifier(column))


def completeness(target: Target) -> list[Gap]:
    """One Gap per (mart, field); marts not built yet are left out."""
    gaps: list[Gap] = []
    with cursor(reader_target(target)) as cur:
        for mart, columns in DETECTOR_FIELDS.items():
            cur.execute("select to_regclass(%s)", (mart,))
            if cur.fetchone()[0] is None:
                continue
            schema, table = mart.split(".")
            query = sql.SQL("select count(*), {} from {}").format(
                sql.SQL(", ").join(_filled(c) for c in columns), sql.Identifier(schema, table)
            )
            cur.execute(query)
            rows, *filled = cur.fetchone()
            gaps.extend(Gap(mart, c, rows, n) for c, n in zip(columns, filled, strict=True))
    return gaps
