"""Apollo constants: endpoints, limits, enums and the column types of the raw tables."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.apollo.io"
SEARCH_PATH = "/api/v1/mixed_people/api_search"
BULK_MATCH_PATH = "/api/v1/people/bulk_match"
ORGANIZATION_BULK_ENRICH_PATH = "/api/v1/organizations/bulk_enrich"

PER_PAGE = 100
MAX_PAGES = 500  # Apollo serves at most 500 pages of 100 for one search
BULK_MATCH_SIZE = 10  # people/bulk_match takes at most 10 details per call
ORGANIZATION_BULK_SIZE = 10  # organizations/bulk_enrich takes at most 10 domains per call
# Mailbox providers: an address there says nothing about the employer's domain.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.com",
        "yandex.com",
    }
)

# Rate limits: slow down when a window has this many requests left.
RATE_LIMIT_HEADERS = {
    "minute": "x-minute-requests-left",
    "hourly": "x-hourly-requests-left",
    "daily": "x-daily-requests-left",
}
SLOW_DOWN_WHEN_LEFT = 2
WINDOW_SECONDS = {"minute": 60.0, "hourly": 3600.0}
MAX_RETRIES = 5
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 60.0

SENIORITIES = frozenset(
    {
        "owner",
        "founder",
        "c_suite",
        "partner",
        "vp",
        "head",
        "director",
        "manager",
        "senior",
        "entry",
        "intern",
    }
)
EMAIL_STATUSES = frozenset(
    {
        "verified",
        "extrapolated",
        "unavailable",
        "guessed",
        "unverified",
        "likely to engage",
        "invalid",
        "bounced",
    }
)

# Column types for every documented field, so that a field which is null in a whole load still
# becomes a column (dlt would otherwise skip it). Unknown fields are added by dlt's schema
# evolution; nested values stay JSON (max_table_nesting=0).
# dlt writes into column hints, so every column gets its own dict: pass columns(...) copies.
_TEXT = {"data_type": "text", "nullable": True}
_BOOL = {"data_type": "bool", "nullable": True}
_BIGINT = {"data_type": "bigint", "nullable": True}
_DOUBLE = {"data_type": "double", "nullable": True}
_JSON = {"data_type": "json", "nullable": True}
_TS = {"data_type": "timestamp", "nullable": True}


def columns(spec: dict[str, dict]) -> dict[str, dict]:
    """Fresh, named column hints for a dlt resource."""
    return {name: {**hint, "name": name} for name, hint in spec.items()}


META_COLUMNS = {
    "_record_id": {"data_type": "text", "nullable": False},
    "_pull_id": {"data_type": "text", "nullable": False},
    "_pulled_at": {"data_type": "timestamp", "nullable": False},
    "_pulled_at_basis": {"data_type": "text", "nullable": False},
    "_observed_at": _TS,
    "_record_hash": {"data_type": "text", "nullable": False},
    "_source": {"data_type": "text", "nullable": False},
    "_source_file": _TEXT,
    "_source_line": _BIGINT,
}

PERSON_COLUMNS = {
    **{
        name: _TEXT
        for name in (
            "id",
            "first_name",
            "last_name",
            "name",
            "linkedin_url",
            "title",
            "email_status",
            "photo_url",
            "twitter_url",
            "github_url",
            "facebook_url",
            "headline",
            "email",
            "organization_id",
            "street_address",
            "city",
            "state",
            "country",
            "postal_code",
            "formatted_address",
            "time_zone",
            "seniority",
            "intent_strength",
        )
    },
    "extrapolated_email_confidence": _DOUBLE,
    "show_intent": _BOOL,
    "email_domain_catchall": _BOOL,
    "revealed_for_current_team": _BOOL,
    "is_likely_to_engage": _BOOL,
    "departments": _JSON,
    "subdepartments": _JSON,
    "functions": _JSON,
    "phone_numbers": _JSON,
    "personal_emails": _JSON,
    **META_COLUMNS,
}

ORGANIZATION_COLUMNS = {
    "person_id": {"data_type": "text", "nullable": False},
    **{
        name: _TEXT
        for name in (
            "id",
            "name",
            "website_url",
            "blog_url",
            "angellist_url",
            "linkedin_url",
            "twitter_url",
            "facebook_url",
            "phone",
            "linkedin_uid",
            "publicly_traded_symbol",
            "publicly_traded_exchange",
            "logo_url",
            "crunchbase_url",
            "primary_domain",
            "sanitized_phone",
            "industry",
            "industry_tag_id",
            "raw_address",
            "street_address",
            "city",
            "state",
            "postal_code",
            "country",
            "owned_by_organization_id",
            "seo_description",
            "short_description",
            "annual_revenue_printed",
            "total_funding_printed",
            "latest_funding_stage",
            "org_chart_sector",
        )
    },
    "alexa_ranking": _BIGINT,
    "founded_year": _BIGINT,
    "estimated_num_employees": _BIGINT,
    "retail_location_count": _BIGINT,
    "num_suborganizations": _BIGINT,
    "annual_revenue": _DOUBLE,
    "total_funding": _DOUBLE,
    "latest_funding_round_date": _TS,
    "snippets_loaded": _BOOL,
    "org_chart_removed": _BOOL,
    "org_chart_show_department_filter": _BOOL,
    **{
        name: _JSON
        for name in (
            "primary_phone",
            "languages",
            "keywords",
            "industries",
            "secondary_industries",
            "industry_tag_hash",
            "suborganizations",
            "funding_events",
            "technology_names",
            "current_technologies",
            "org_chart_root_people_ids",
            "departmental_head_count",
        )
    },
    **META_COLUMNS,
}

EMPLOYMENT_COLUMNS = {
    "person_id": {"data_type": "text", "nullable": False},
    "entry_key": {"data_type": "text", "nullable": False},
    "entry_index": {"data_type": "bigint", "nullable": False},
    **{
        name: _TEXT
        for name in (
            "id",
            "_id",
            "key",
            "organization_id",
            "organization_name",
            "title",
            "kind",
            "degree",
            "major",
            "description",
            "grade_level",
            "raw_address",
            "start_date",
            "end_date",
            "created_at",
            "updated_at",
        )
    },
    "current": _BOOL,
    "emails": _JSON,
    **META_COLUMNS,
}

REJECTED_COLUMNS = {
    "rejection_id": {"data_type": "text", "nullable": False},
    "record_kind": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    "source_file": _TEXT,
    "source_line": _BIGINT,
    "payload": _TEXT,
    "rejected_at": {"data_type": "timestamp", "nullable": False},
}

SEARCH_RESULT_COLUMNS = {
    "id": {"data_type": "text", "nullable": False},
    "client_slug": {"data_type": "text", "nullable": False},
    "searched_at": {"data_type": "timestamp", "nullable": False},
    "has_direct_phone": _TEXT,
    "last_refreshed_at": _TS,
    "organization": _JSON,
}
