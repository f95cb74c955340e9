"""config/ab_tests.yml: declared A/B tests parsed, refused with a clear reason, synced; and the
chi-square p-value the sample-ratio-mismatch check uses, against the textbook's table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cis.ab_tests import AbTestConfigError, load_ab_tests, parse_ab_tests
from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.jobs.ab_tests_sync import sync_ab_tests
from cis.jobs.clients_sync import sync_clients
from tests.pg import embedded_server, fresh_database, query

ROOT = Path(__file__).resolve().parents[1]
SLUGS = ["northwind", "ledgerly"]


def one_test(**changes: object) -> dict:
    test = {
        "key": "nw-subject",
        "client": "northwind",
        "provider": "smartlead",
        "campaign_id": 1847213,
        "step": 1,
        "variants": [{"label": "A", "split": 50}, {"label": "B", "split": 50}],
    }
    test.update(changes)
    return {"ab_tests": [test]}


def test_the_shipped_file_parses() -> None:
    clients = load_clients(ROOT / "config" / "clients.yml")
    tests = load_ab_tests(ROOT / "config" / "ab_tests.yml", [c.slug for c in clients])
    assert tests and all(len(t.arms) >= 2 for t in tests)


def test_defaults_and_more_than_two_arms() -> None:
    three = [{"label": "A"}, {"label": "B"}, {"id": "6518803", "description": "new opener"}]
    (test,) = parse_ab_tests(one_test(variants=three), SLUGS)
    assert test.primary_metric == "reply_rate" and test.status == "running"
    assert test.campaign_id == "1847213"  # ids as text
    assert [a.split for a in test.arms] == [None, None, None]  # equal shares
    assert test.arms[2].variant_id == "6518803"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"primary_metric": "reply_rte"}, "did you mean 'reply_rate'"),
        ({"status": "live"}, "is not one of draft, running"),
        ({"variants": [{"label": "A"}]}, "two or more arms"),
        (
            {"variants": [{"label": "A", "split": 60}, {"label": "B", "split": 60}]},
            "adding up to 100",
        ),
        ({"variants": [{"label": "A", "split": 50}, {"label": "B"}]}, "adding up to 100"),
        ({"variants": [{"label": "A"}, {"description": "no variant named"}]}, "label or id"),
        ({"client": "northwnd"}, "did you mean 'northwind'"),
        ({"start": "2025-03-01", "end": "2025-02-01"}, "is before start"),
        ({"start": "March"}, "is not a date"),
        ({"step": 0}, "step number >= 1"),
        ({"key": "Has Spaces"}, "lower-case letters"),
        ({"hypothesis": "x", "splits": 1}, "unknown key 'splits'"),
    ],
)
def test_a_bad_test_is_refused_with_its_reason(changes: dict, reason: str) -> None:
    with pytest.raises(AbTestConfigError, match=reason.replace("(", r"\(")):
        parse_ab_tests(one_test(**changes), SLUGS)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    data = one_test()
    data["ab_tests"] *= 2
    path = tmp_path / "ab_tests.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(AbTestConfigError, match="given twice"):
        load_ab_tests(path, SLUGS)
    assert load_ab_tests(tmp_path / "missing.yml", SLUGS) == []  # the file is optional


def test_sync_writes_the_file_and_removes_what_left_it() -> None:
    target = fresh_database(embedded_server(), "ab_tests_sync")
    bootstrap(target)
    clients = load_clients(ROOT / "config" / "clients.yml")
    sync_clients(target, clients)
    slugs = [c.slug for c in clients]
    first = parse_ab_tests(one_test(), slugs) + parse_ab_tests(one_test(key="nw-two"), slugs)
    assert sync_ab_tests(target, first, clients) == 2
    sync_ab_tests(target, first[:1], clients)
    rows = query(target, "select test_key, provider, campaign_id, variants from cis.ab_tests")
    assert [(r[0], r[1], r[2]) for r in rows] == [("nw-subject", "smartlead", "1847213")]
    assert [arm["label"] for arm in rows[0][3]] == ["A", "B"]


# Critical values of the chi-square distribution (any statistics textbook's table).
TABLE = [
    (3.841, 1, 0.05),
    (10.828, 1, 0.001),
    (5.991, 2, 0.05),
    (13.816, 2, 0.001),
    (7.815, 3, 0.05),
    (16.266, 3, 0.001),
    (9.488, 4, 0.05),
    (20.515, 5, 0.001),
]


def test_chi_square_p_values_match_the_table() -> None:
    target = fresh_database(embedded_server(), "chi_square")
    bootstrap(target)
    for statistic, degrees, p in TABLE:
        (got,) = query(target, "select cis.chi_square_p_value(%s, %s)", (statistic, degrees))[0]
        assert got == pytest.approx(p, rel=0.01), (statistic, degrees)
    assert query(target, "select cis.chi_square_p_value(0, 3)") == [(pytest.approx(1.0),)]
    for degrees in (1, 2, 3, 6):  # far past any table: zero, not an underflow error
        assert query(target, "select cis.chi_square_p_value(1e6, %s)", (degrees,))[0][0] < 1e-200
