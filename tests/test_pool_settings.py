"""config/pool.yml: thresholds and rules are configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from cis.pool.validation import RULE_NAMES
from cis.pool_settings import PoolSettingsError, load_pool_settings, parse_pool_settings

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_file_holds_the_defaults() -> None:
    assert load_pool_settings(ROOT / "config" / "pool.yml") == parse_pool_settings({})


def test_values_and_disabled_rules_are_read() -> None:
    settings = parse_pool_settings(
        {
            "allocation": {"cooldown_days": 7, "verified_only": False},
            "validation": {"max_touches": 4, "disabled_rules": ["missing_personalization"]},
        }
    )
    assert settings.allocation.cooldown_days == 7 and not settings.allocation.verified_only
    assert settings.validation.max_touches == 4
    assert settings.validation.enabled_rules == frozenset(RULE_NAMES) - {"missing_personalization"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"allocation": {"cooldown": 3}}, "allocation: unknown keys"),
        ({"validation": {"disabled_rules": ["no_such_rule"]}}, "unknown rules"),
        ({"limits": {}}, "unknown sections"),
        ({"validation": []}, "validation: expected a mapping"),
    ],
)
def test_mistakes_are_named(data: dict, message: str) -> None:
    with pytest.raises(PoolSettingsError, match=message):
        parse_pool_settings(data)


def test_a_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_pool_settings(tmp_path / "absent.yml") == parse_pool_settings({})
