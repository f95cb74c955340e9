"""Explicit A/B tests from ``config/ab_tests.yml`` (docs/ab-tests.md).

Every sequence step with two or more variants is already a test (the marts derive it); an entry
here adds what the vendor does not know: the hypothesis, what each arm is, the metric that
decides, the sample the test needs, its dates and its status. Arms name the vendor's variants by
label (``A``) or id; a planned split that is left out is an equal split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from cis.clients import ClientConfigError, _check_keys, _list, _mapping, _suggest

PROVIDERS = ("smartlead", "salesforge")
METRICS = ("open_rate", "click_rate", "reply_rate", "positive_reply_rate")
STATUSES = ("draft", "running", "paused", "completed", "cancelled")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,80}$")
_TEST_KEYS = (
    "key",
    "client",
    "provider",
    "campaign_id",
    "step",
    "hypothesis",
    "primary_metric",
    "target_sample_size",
    "start",
    "end",
    "status",
    "variants",
)
_VARIANT_KEYS = ("label", "id", "description", "split")


class AbTestConfigError(ClientConfigError):
    """config/ab_tests.yml does not describe valid tests (the message says where and why)."""


@dataclass(frozen=True)
class Arm:
    label: str | None
    variant_id: str | None
    description: str | None
    split: float | None  # percent of leads planned for this arm; None = an equal share


@dataclass(frozen=True)
class AbTest:
    key: str
    client: str  # client slug (config/clients.yml)
    provider: str
    campaign_id: str
    step: int
    hypothesis: str | None
    primary_metric: str
    target_sample_size: int | None
    start: date | None
    end: date | None
    status: str
    arms: tuple[Arm, ...]


def _choice(value: object, allowed: Sequence[str], where: str, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    text = str(value).strip().lower() if value is not None else ""
    if text not in allowed:
        raise AbTestConfigError(
            f"{where}: {value!r} is not one of {', '.join(allowed)}{_suggest(text, allowed)}"
        )
    return text


def _date(value: object, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise AbTestConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _arm(value: object, where: str) -> Arm:
    raw = _mapping(value, where)
    _check_keys(raw, _VARIANT_KEYS, where)
    label, variant_id = _text(raw.get("label")), _text(raw.get("id"))
    if label is None and variant_id is None:
        raise AbTestConfigError(f"{where}: give the vendor's variant label or id")
    split = raw.get("split")
    if split is not None and (
        isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 <= split <= 100
    ):
        raise AbTestConfigError(f"{where}.split: expected a percent from 0 to 100, got {split!r}")
    return Arm(label, variant_id, _text(raw.get("description")), split)


def _test(value: object, where: str) -> AbTest:
    raw = _mapping(value, where)
    _check_keys(raw, _TEST_KEYS, where)
    key = _text(raw.get("key"))
    if key is None or not KEY_PATTERN.match(key):
        raise AbTestConfigError(
            f"{where}.key: expected lower-case letters, digits, '-' or '_', got {key!r}"
        )
    where = f"{where} ({key})"
    for required in ("client", "provider", "campaign_id", "step"):
        if raw.get(required) is None:
            raise AbTestConfigError(f"{where}: {required} is required")
    step = raw["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise AbTestConfigError(f"{where}.step: expected a step number >= 1, got {step!r}")
    size = raw.get("target_sample_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise AbTestConfigError(f"{where}.target_sample_size: expected leads per arm, got {size!r}")
    arms = tuple(
        _arm(v, f"{where}.variants[{i}]")
        for i, v in enumerate(_list(raw.get("variants"), f"{where}.variants"))
    )
    if len(arms) < 2:
        raise AbTestConfigError(f"{where}.variants: a test needs two or more arms")
    splits = [a.split for a in arms if a.split is not None]
    if splits and (len(splits) != len(arms) or abs(sum(splits) - 100) > 0.5):
        raise AbTestConfigError(
            f"{where}.variants: give every arm a split adding up to 100, or none (equal shares)"
        )
    start, end = _date(raw.get("start"), f"{where}.start"), _date(raw.get("end"), f"{where}.end")
    if start and end and end < start:
        raise AbTestConfigError(f"{where}: end {end} is before start {start}")
    return AbTest(
        key=key,
        client=str(raw["client"]).strip(),
        provider=_choice(raw["provider"], PROVIDERS, f"{where}.provider"),
        campaign_id=str(raw["campaign_id"]).strip(),
        step=step,
        hypothesis=_text(raw.get("hypothesis")),
        primary_metric=_choice(
            raw.get("primary_metric"), METRICS, f"{where}.primary_metric", "reply_rate"
        ),
        target_sample_size=size,
        start=start,
        end=end,
        status=_choice(raw.get("status"), STATUSES, f"{where}.status", "running"),
        arms=arms,
    )


def parse_ab_tests(data: object, client_slugs: Sequence[str]) -> list[AbTest]:
    try:
        return _parse(data, client_slugs)
    except AbTestConfigError:
        raise
    except ClientConfigError as exc:  # from the helpers the clients file shares
        raise AbTestConfigError(str(exc)) from exc


def _parse(data: object, client_slugs: Sequence[str]) -> list[AbTest]:
    raw = _mapping(data, "ab_tests file")
    _check_keys(raw, ("ab_tests",), "ab_tests file")
    tests = [
        _test(v, f"ab_tests[{i}]") for i, v in enumerate(_list(raw.get("ab_tests"), "ab_tests"))
    ]
    seen: set[str] = set()
    for test in tests:
        if test.key in seen:
            raise AbTestConfigError(f"ab_tests: key {test.key!r} is given twice")
        seen.add(test.key)
        if test.client not in client_slugs:
            raise AbTestConfigError(
                f"ab_tests ({test.key}).client: no client {test.client!r} in the clients "
                f"file{_suggest(test.client, client_slugs)}"
            )
    return tests


def load_ab_tests(path: Path, client_slugs: Sequence[str]) -> list[AbTest]:
    """The tests of ``path``; none when the file does not exist (tests are optional)."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise AbTestConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_ab_tests(data, client_slugs)
    except ClientConfigError as exc:
        raise AbTestConfigError(f"{path}: {exc}") from exc
