"""ICP scoring: how well each lead matches a client's ideal customer profile (vectorised).

The score is the weighted share of the *specified* ICP criteria that the lead meets, normalised
by the sum of the specified criteria's weights, so it is always in 0..1. An ICP with no criteria
scores 1.0 for everyone. A missing lead value never meets a criterion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from cis.clients import Icp
from cis.pool._frames import column, lower_strings

# Criterion names are the ICP keys of config/clients.yml (employee_range covers min and max, and
# the employee_ranges bands).
CRITERION_WEIGHTS: Mapping[str, float] = {
    "seniorities": 0.30,
    "titles": 0.20,
    "departments": 0.15,
    "industries": 0.15,
    "employee_range": 0.10,
    "countries": 0.10,
    "keywords": 0.10,
}
CRITERIA: tuple[str, ...] = tuple(CRITERION_WEIGHTS)
SCORE_DECIMALS = 6
# Keyword lists are joined with this before matching; keywords never contain it.
_KEYWORD_SEPARATOR = "\x1f"


def specified_criteria(icp: Icp) -> tuple[str, ...]:
    """The ICP criteria that are specified (non-empty), in ``CRITERIA`` order.

    Parameters
    ----------
    icp : Icp
        The client's ideal customer profile.

    Returns
    -------
    tuple of str
        Names from ``CRITERIA``; ``employee_range`` counts when either bound or any employee
        band (``Icp.employee_ranges``) is set.
    """
    present = {
        "seniorities": bool(_clean(icp.seniorities)),
        "titles": bool(_clean(icp.titles)),
        "departments": bool(_clean(icp.departments)),
        "industries": bool(_clean(icp.industries)),
        "employee_range": bool(icp.employee_bands),
        "countries": bool(_clean(icp.countries)),
        "keywords": bool(_clean(icp.keywords)),
    }
    return tuple(c for c in CRITERIA if present[c])


def without_criterion(icp: Icp, criterion: str) -> Icp:
    """A copy of ``icp`` with one criterion removed (emptied).

    Parameters
    ----------
    icp : Icp
        The profile to relax.
    criterion : str
        One of ``CRITERIA``.

    Returns
    -------
    Icp
        The same profile without that criterion.
    """
    if criterion == "employee_range":
        return replace(icp, employee_min=None, employee_max=None, employee_ranges=())
    if criterion not in CRITERION_WEIGHTS:
        raise ValueError(f"unknown ICP criterion {criterion!r}; expected one of {CRITERIA}")
    return replace(icp, **{criterion: ()})


def word_pattern(keywords: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    """A case-insensitive "word-ish" pattern matching any of the keywords.

    A keyword matches when it appears in the text as whole words, optionally followed by a
    plural ``s``/``es``: ``cfo`` matches "CFO" and "CFOs", ``supply chain`` matches "VP Supply
    Chain", ``sales`` does not match "Salesforce Admin".

    Parameters
    ----------
    keywords : sequence of str
        Keywords; blanks are ignored.

    Returns
    -------
    re.Pattern or None
        None when there are no keywords.
    """
    words = sorted(_clean(keywords), key=len, reverse=True)
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?:e?s)?(?![a-z0-9])", re.IGNORECASE)


def criteria_met(leads: pd.DataFrame, icp: Icp) -> pd.DataFrame:
    """Which specified ICP criteria each lead meets.

    Parameters
    ----------
    leads : pandas.DataFrame
        Leads in the ``dim_leads`` shape (missing columns count as missing values).
    icp : Icp
        The client's ideal customer profile.

    Returns
    -------
    pandas.DataFrame
        Boolean frame indexed like ``leads`` with one column per *specified* criterion (in
        ``CRITERIA`` order); no columns when the ICP specifies nothing. Missing values are False.
    """
    met: dict[str, pd.Series] = {}
    for criterion in specified_criteria(icp):
        met[criterion] = _MATCHERS[criterion](leads, icp).astype(bool)
    return pd.DataFrame(met, index=leads.index, columns=list(met), dtype=bool)


def score_from_met(met: pd.DataFrame) -> pd.Series:
    """ICP scores from a ``criteria_met`` frame (its columns are the criteria that count).

    Parameters
    ----------
    met : pandas.DataFrame
        Boolean columns named after ``CRITERIA``; drop a column to score without it.

    Returns
    -------
    pandas.Series
        Float scores in 0..1 rounded to ``SCORE_DECIMALS``; 1.0 when ``met`` has no columns.
    """
    if met.shape[1] == 0:
        return pd.Series(1.0, index=met.index, dtype=float)
    weights = np.array([CRITERION_WEIGHTS[c] for c in met.columns], dtype=float)
    values = met.to_numpy(dtype=float) @ weights / weights.sum()
    return pd.Series(np.round(values, SCORE_DECIMALS), index=met.index, dtype=float)


def icp_score(leads: pd.DataFrame, icp: Icp) -> pd.Series:
    """Score every lead against an ICP, vectorised.

    Weights: seniority 0.30, titles 0.20, departments 0.15, industries 0.15, employee range
    0.10, countries 0.10, organisation keywords 0.10. Only specified criteria count and the
    score is normalised by the sum of their weights.

    Parameters
    ----------
    leads : pandas.DataFrame
        Leads in the ``dim_leads`` shape.
    icp : Icp
        The client's ideal customer profile.

    Returns
    -------
    pandas.Series
        Float scores in 0..1 indexed like ``leads`` (1.0 for everyone when the ICP is empty).
    """
    return score_from_met(criteria_met(leads, icp))


def meets_min_score(scores: pd.Series, min_icp_score: float) -> pd.Series:
    """``scores >= min_icp_score`` with a tolerance for floating-point rounding."""
    return scores >= (float(min_icp_score) - 1e-9)


# --- criterion matchers -------------------------------------------------------------------


def _clean(values: tuple[str, ...] | list[str]) -> list[str]:
    return [str(v).strip().lower() for v in values if v is not None and str(v).strip()]


def _in_set(leads: pd.DataFrame, col: str, values: tuple[str, ...]) -> pd.Series:
    wanted = set(_clean(values))
    return lower_strings(column(leads, col)).isin(wanted)


def _titles(leads: pd.DataFrame, icp: Icp) -> pd.Series:
    pattern = word_pattern(icp.titles)
    titles = column(leads, "title")
    if pattern is None or titles.empty:
        return pd.Series(False, index=leads.index)
    texts = titles.where(titles.notna(), "").astype(str)
    return texts.str.contains(pattern, regex=True).fillna(False).astype(bool)


def _employee_range(leads: pd.DataFrame, icp: Icp) -> pd.Series:
    """The company's employee count is in any of the ICP's bands (a union, bounds inclusive)."""
    counts = pd.to_numeric(column(leads, "employee_count"), errors="coerce")
    ok = pd.Series(False, index=leads.index, dtype=bool)
    for low, high in icp.employee_bands:
        inside = counts >= low
        if high is not None:
            inside &= counts <= high
        ok |= inside.fillna(False).astype(bool)
    return ok


def _join_keywords(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return _KEYWORD_SEPARATOR.join(str(v) for v in value if v is not None)
    return ""


def _keywords(leads: pd.DataFrame, icp: Icp) -> pd.Series:
    pattern = word_pattern(icp.keywords)
    values = column(leads, "organization_keywords")
    if pattern is None or values.empty:
        return pd.Series(False, index=leads.index)
    joined = pd.Series([_join_keywords(v) for v in values], index=leads.index, dtype=object)
    return joined.str.contains(pattern, regex=True).fillna(False).astype(bool)


_MATCHERS = {
    "seniorities": lambda leads, icp: _in_set(leads, "seniority", icp.seniorities),
    "titles": _titles,
    "departments": lambda leads, icp: _in_set(leads, "department", icp.departments),
    "industries": lambda leads, icp: _in_set(leads, "industry", icp.industries),
    "employee_range": _employee_range,
    "countries": lambda leads, icp: _in_set(leads, "country_code", icp.countries),
    "keywords": _keywords,
}
