"""Allocation and validation thresholds from ``config/pool.yml`` (documented in docs/pool.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from cis.pool.allocation import AllocationSettings
from cis.pool.validation import RULE_NAMES, ValidationSettings


class PoolSettingsError(ValueError):
    """The settings file is not valid; the message names the section and key."""


@dataclass(frozen=True)
class PoolSettings:
    allocation: AllocationSettings = field(default_factory=AllocationSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)


def _section(data: dict, name: str, known: set[str]) -> dict:
    section = data.get(name)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise PoolSettingsError(f"{name}: expected a mapping")
    unknown = set(section) - known
    if unknown:
        raise PoolSettingsError(f"{name}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    return section


def parse_pool_settings(data: dict | None) -> PoolSettings:
    data = data or {}
    unknown = set(data) - {"allocation", "validation"}
    if unknown:
        raise PoolSettingsError(f"unknown sections {sorted(unknown)}")
    allocation = _section(data, "allocation", {f.name for f in fields(AllocationSettings)})
    known_validation = {f.name for f in fields(ValidationSettings)} - {"enabled_rules"}
    validation = _section(data, "validation", known_validation | {"disabled_rules"})
    disabled = set(validation.pop("disabled_rules", None) or ())
    if disabled - set(RULE_NAMES):
        raise PoolSettingsError(
            f"validation.disabled_rules: unknown rules {sorted(disabled - set(RULE_NAMES))}"
        )
    try:
        return PoolSettings(
            AllocationSettings(**allocation),
            ValidationSettings(**validation, enabled_rules=frozenset(RULE_NAMES) - disabled),
        )
    except (TypeError, ValueError) as exc:
        raise PoolSettingsError(str(exc)) from exc


def load_pool_settings(path: Path) -> PoolSettings:
    """The settings in ``path``; the defaults when the file does not exist."""
    if not path.exists():
        return PoolSettings()
    try:
        return parse_pool_settings(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, PoolSettingsError) as exc:
        raise PoolSettingsError(f"{path}: {exc}") from exc
