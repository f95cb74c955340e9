"""Values a JSON parser accepts but the warehouse cannot store faithfully.

``json.loads`` takes lone surrogates (``"\\ud800"``), NUL characters, integers of any size and
(with a large exponent) infinite floats, and recursion limits differ between the parser and the
libraries after it. Each of these once crashed a whole load or was silently changed on the way
to PostgreSQL; :func:`value_problem` names the first one in a payload so the record can be
quarantined with that reason instead.
"""

from __future__ import annotations

import math
import re

MAX_DEPTH = 64  # nesting deeper than any vendor payload; dlt's JSON writer stops near 250
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# In JSON text, each problem needs one of these: a \u0000 or surrogate escape (raw NUL bytes
# and surrogates are not valid UTF-8 and fail earlier), a number of 19 or more digits, or a
# number with an exponent. A JSON number follows ":", "[" or "," (and maybe blanks), which
# keeps ids such as "65d2f058e53a" (hex, in strings) from looking like "8e53". Text without
# them, and with too few brackets to nest MAX_DEPTH deep, is clean.
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|[:\[,]\s*-?\d+(?:\.\d+)?[eE]|[:\[,]\s*-?\d{19}")


def line_may_hold_a_problem(line: str) -> bool:
    """Whether ``line`` (JSON text) needs :func:`value_problem`: a cheap test on the text."""
    return line.count("[") + line.count("{") > MAX_DEPTH or _SUSPECT.search(line) is not None


def value_problem(payload: object) -> str | None:
    """The first value in ``payload`` that cannot be stored as it is, described; else None.

    Walks iteratively (a hostile payload must not exhaust the stack) and names the path of
    the value, e.g. ``organization.funding_events[0].amount``.
    """
    stack: list[tuple[object, str, int]] = [(payload, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels at {path or 'the top'}"
            for key, item in value.items():
                if problem := _text_problem(key):
                    return f"a field name {problem}"
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels at {path or 'the top'}"
            for index, item in enumerate(value):
                stack.append((item, f"{path}[{index}]", depth + 1))
        elif isinstance(value, str):
            if problem := _text_problem(value):
                return f"{path or 'value'} {problem}"
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                return (
                    f"{path or 'value'} is an integer beyond the 64-bit range ({str(value)[:30]})"
                )
        elif isinstance(value, float) and not math.isfinite(value):
            return f"{path or 'value'} is not a finite number ({value})"
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which PostgreSQL text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (an invalid \\ud800-\\udfff escape)"
    return None
