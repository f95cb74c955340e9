"""Small helpers shared by the pool modules: tolerant column access and normalisation.

Private to ``cis.pool``. Everything here is pure: no database, no clock, no environment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd

# Pool statuses that mean "never contact this person again" are handled by the validator;
# allocation only takes leads whose pool_status is exactly this.
AVAILABLE = "available"
# Assignment statuses that hold a lead: one holder per lead (see the unique index in ops_schema).
HOLDING_STATUSES = ("active", "converted")


def column(df: pd.DataFrame, name: str) -> pd.Series:
    """The column as an object Series, or a Series of None when the frame lacks it."""
    if name in df.columns:
        return df[name].astype(object)
    return pd.Series([None] * len(df), index=df.index, dtype=object)


def is_blank(value: object) -> bool:
    """True for None, NaN/NaT/pd.NA, empty or whitespace-only strings and empty sequences."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return len(value) == 0
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def lower_strings(s: pd.Series) -> pd.Series:
    """Stripped lower-case strings; missing or blank values become None (object dtype)."""
    out = s.astype(object)
    mask = out.notna()
    if mask.any():
        cleaned = out[mask].map(lambda v: str(v).strip().lower())
        out = out.copy()
        out[mask] = cleaned
        out[out == ""] = None
    return out.where(out.notna(), None)


def id_strings(s: pd.Series) -> pd.Series:
    """Identifiers (uuid objects or strings) as str; missing values stay None."""
    out = s.astype(object)
    mask = out.notna()
    if mask.any():
        out = out.copy()
        out[mask] = out[mask].map(str)
    return out.where(mask, None)


def to_utc(ts: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """A timestamp in UTC; a naive value is taken to be UTC already."""
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is None:
        return stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC")


def utc_series(s: pd.Series) -> pd.Series:
    """A datetime Series in UTC (naive values are taken as UTC); unparseable values become NaT."""
    out = pd.to_datetime(s, errors="coerce", utc=True)
    if not isinstance(out, pd.Series):  # pragma: no cover - defensive, to_datetime keeps Series
        out = pd.Series(out, index=s.index)
    return out


def ensure_columns(df: pd.DataFrame | None, names: Iterable[str]) -> pd.DataFrame:
    """A copy-free view of ``df`` with any missing columns added as None (None -> empty frame)."""
    if df is None:
        df = pd.DataFrame()
    missing = [n for n in names if n not in df.columns]
    if not missing:
        return df
    extra = pd.DataFrame({n: [None] * len(df) for n in missing}, index=df.index, dtype=object)
    return pd.concat([df, extra], axis=1)


def normalise_company(value: object) -> str | None:
    """Lower-case company domain or name without scheme, ``www.`` or trailing slash."""
    if is_blank(value):
        return None
    text = str(value).strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if text.startswith("www."):
        text = text[4:]
    return text.rstrip("/") or None


def excluded_set(excluded: Iterable[str]) -> frozenset[str]:
    """The client's excluded companies, normalised like the leads' domains and names."""
    return frozenset(n for n in (normalise_company(e) for e in excluded) if n)


def company_excluded_mask(leads: pd.DataFrame, excluded: Iterable[str]) -> pd.Series:
    """Boolean Series: the lead's company domain or name is in ``excluded``."""
    names = excluded_set(excluded)
    if not names or leads.empty:
        return pd.Series(False, index=leads.index, dtype=bool)
    domain = column(leads, "company_domain").map(normalise_company)
    name = column(leads, "company_name").map(normalise_company)
    return (domain.isin(names) | name.isin(names)).astype(bool)


def company_excluded(lead: Mapping, excluded: Iterable[str]) -> str | None:
    """The lead's matching excluded domain or name, or None when the company is not excluded."""
    names = excluded_set(excluded)
    for key in ("company_domain", "company_name"):
        value = normalise_company(lead.get(key))
        if value and value in names:
            return value
    return None
