"""From a client's ICP to Apollo search filters, and slicing a search that exceeds 500 pages."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cis.clients import Icp
from ingestion.apollo import helpers, settings

EMPLOYEE_BANDS = (
    (1, 10),
    (11, 20),
    (21, 50),
    (51, 100),
    (101, 200),
    (201, 500),
    (501, 1000),
    (1001, 2000),
    (2001, 5000),
    (5001, 10000),
    (10001, 1_000_000),
)
_COUNTRIES_CSV = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "country_codes.csv"


@cache
def country_names() -> dict[str, str]:
    """ISO alpha-2 code to the country name Apollo uses (the dbt seed is the one list)."""
    with _COUNTRIES_CSV.open() as handle:
        return {row["country_code"]: row["country_name"] for row in csv.DictReader(handle)}


def icp_query(icp: Icp) -> dict[str, Any]:
    """The ``mixed_people/api_search`` body for an ICP (page and per_page are added later)."""
    query: dict[str, Any] = {}
    if icp.titles:
        query["person_titles"] = list(icp.titles)
        query["include_similar_titles"] = True
    if icp.seniorities:
        query["person_seniorities"] = list(icp.seniorities)
    if icp.countries:
        names = country_names()
        query["person_locations"] = [names.get(code, code) for code in icp.countries]
    if ranges := [
        f"{a},{b}"
        for a, b in EMPLOYEE_BANDS
        if any(b >= max(low, 1) and (high is None or a <= high) for low, high in icp.employee_bands)
    ]:
        query["organization_num_employees_ranges"] = ranges
    tags = [*icp.industries, *icp.keywords]
    if tags:
        query["q_organization_keyword_tags"] = tags
    return query


# Filters a too-large search is split on, in this order: one value per sub-search.
SLICE_KEYS = ("organization_num_employees_ranges", "person_locations", "person_seniorities")
_DEFAULT_SLICES = {
    "organization_num_employees_ranges": [f"{a},{b}" for a, b in EMPLOYEE_BANDS],
    "person_seniorities": sorted(settings.SENIORITIES),
}


@dataclass(frozen=True)
class SearchSlice:
    query: dict[str, Any]
    total_entries: int
    capped: bool  # still above the cap after every split: some people are unreachable


def _split(query: dict[str, Any], depth: int) -> list[tuple[dict[str, Any], int]]:
    """Sub-searches on the first slice key (from ``depth`` on) that has more than one value."""
    for index in range(depth, len(SLICE_KEYS)):
        key = SLICE_KEYS[index]
        values = query.get(key) or _DEFAULT_SLICES.get(key) or []
        if len(values) > 1:
            return [({**query, key: [value]}, index + 1) for value in values]
    return []


def sliced_search(
    client: helpers.ApolloClient, query: dict[str, Any], depth: int = 0
) -> Iterator[tuple[SearchSlice, dict[str, Any]]]:
    """Yield (slice, page) for every page of a search, splitting it while it exceeds the cap."""
    cap = settings.MAX_PAGES * settings.PER_PAGE
    pages = helpers.search_pages(client, query)
    first = next(pages)
    total = helpers.total_entries(first)
    parts = _split(query, depth) if total > cap else []
    if parts:
        pages.close()
        for sub_query, next_depth in parts:
            client.stats.search_slices += 1
            yield from sliced_search(client, sub_query, next_depth)
        return
    current = SearchSlice(query, total, capped=total > cap)
    yield current, first
    for page in pages:
        yield current, page
