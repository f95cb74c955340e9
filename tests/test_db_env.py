"""``cis db env`` and the printed URLs: no password, no switch away from the embedded roles."""

from __future__ import annotations

import pytest

from cis.db import DATABASE_URL_ENV, Target, parse_url, shell_env


def test_embedded_env_does_not_export_the_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    embedded = Target("/tmp/cis/pgdata", 5432, "postgres", "", "cis", embedded=True)
    env = shell_env(embedded)
    assert DATABASE_URL_ENV not in env
    assert env["CIS_DBT_USER"] == "cis_transformer"
    assert "cis_loader" in env["DESTINATION__POSTGRES__CREDENTIALS"]


def test_no_password_is_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://admin:s3cr%40t@db.example.internal:5432/cis"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    admin = parse_url(url)
    printed = " ".join(shell_env(admin).values()) + admin.display_url
    assert "s3cr" not in printed
    assert admin.display_url == "postgresql://admin:***@db.example.internal:5432/cis"
