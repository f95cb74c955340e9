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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "@"}, "not an email address"),
        ({"email": "  "}, "not an email address"),
        ({"email": "jane@"}, "not an email address"),
        ({"linkedin_url": "linkedin.com"}, "not a LinkedIn profile URL"),
        ({"linkedin_url": "https://www.linkedin.com/in/"}, "not a LinkedIn profile URL"),
        ({"apollo_id": "%"}, "not an Apollo id"),
    ],
)
def test_forget_refuses_what_does_not_name_one_person(kwargs: dict, message: str) -> None:
    from cis.jobs.forget import check_request

    with pytest.raises(ValueError, match=message):
        check_request(kwargs.get("email"), kwargs.get("linkedin_url"), kwargs.get("apollo_id"))
    check_request(
        "jane.doe@acme.com", "http://www.linkedin.com/in/Jane-Doe/", "64f1c2a9e8b7d50001a3c9f1"
    )
