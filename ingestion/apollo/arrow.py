"""Apollo raw rows as Arrow tables (dlt's fast path: Arrow in, ``COPY`` out).

Each raw table has typed columns for every documented field (``settings.*_COLUMNS``): they keep
their types (a documented field that is null in a whole load still becomes a column). Every
other field of the record (unknown, or added by Apollo later) becomes a ``json`` column (jsonb)
holding the value as sent, whatever its type: so one field never needs two column types, and
staging's ``extra_fields`` reads it as it would any column. ``person_problems`` has already
refused a value that does not fit its typed column, so the conversion here never guesses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from ingestion.apollo.records import column_name, parse_timestamp

ARROW_TYPES = {
    "text": pa.string(),
    "bool": pa.bool_(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "json": pa.string(),  # JSON text, loaded into a jsonb column by its hint
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # integers beyond 64 bits, odd types: the standard library takes them
        return json.dumps(value, default=str)


def arrow_table(rows: list[dict[str, Any]], spec: dict[str, dict]) -> tuple[pa.Table, list[str]]:
    """One Arrow table of ``rows`` (fresh dicts: their values are replaced in place) with the
    documented columns of ``spec`` and one json column per other field; and the names of those.

    Only the json and timestamp values are converted in Python; the rest is Arrow's own
    conversion (C++), with text coerced first only for a batch that needs it (an id sent as a
    number).
    """
    kinds = {name: hint["data_type"] for name, hint in spec.items()}
    json_names = [n for n, k in kinds.items() if k == "json"]
    time_names = [n for n, k in kinds.items() if k == "timestamp"]
    extra: dict[str, None] = {}
    for row in rows:
        if not row.keys() <= kinds.keys():
            extra.update(dict.fromkeys(k for k in row if k not in kinds))
        for name in json_names:
            value = row.get(name)
            if value is not None:
                row[name] = json_text(value)
        for name in time_names:
            value = row.get(name)
            if value is not None and not isinstance(value, datetime):
                row[name] = parse_timestamp(value)
    # Each field under the column dlt gives it (records whose names would collide were refused
    # by ``person_problems``), so the json hint names the column dlt creates.
    columns = {name: column_name(name) for name in extra}
    extra_names = sorted(set(columns.values()))
    for row in rows:
        for name, column in columns.items():
            value = row.pop(name, None) if column != name else row.get(name)
            if value is not None:
                row[column] = json_text(value)
    fields = [pa.field(n, ARROW_TYPES[k]) for n, k in kinds.items()]
    fields += [pa.field(n, pa.string()) for n in extra_names]
    schema = pa.schema(fields)
    try:
        return pa.Table.from_pylist(rows, schema=schema), extra_names
    except (pa.ArrowTypeError, pa.ArrowInvalid, OverflowError):
        _coerce(rows, kinds)
        return pa.Table.from_pylist(rows, schema=schema), extra_names


def _coerce(rows: list[dict[str, Any]], kinds: dict[str, str]) -> None:
    """Numbers in text columns as text, integral floats in bigint columns as integers (the
    values ``person_problems`` lets through)."""
    for row in rows:
        for name, kind in kinds.items():
            value = row.get(name)
            if value is None:
                continue
            if kind == "text" and not isinstance(value, str):
                row[name] = str(value)
            elif kind == "bigint" and isinstance(value, float):
                row[name] = int(value)
            elif kind == "double" and isinstance(value, int):
                row[name] = float(value)


def json_hints(names: Sequence[str]) -> dict[str, dict[str, str]]:
    return {name: {"name": name, "data_type": "json"} for name in names}
