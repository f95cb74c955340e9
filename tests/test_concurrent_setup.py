"""The set-up every verb runs first (roles, grants, the ops schema) holds under concurrency."""

from __future__ import annotations

import threading

from cis.bootstrap import bootstrap, ensure_client_role
from cis.db import Target
from tests.pg import query


def test_many_set_ups_at_once_all_succeed(target: Target) -> None:
    errors: list[BaseException] = []

    def set_up(n: int) -> None:
        try:
            bootstrap(target)
            ensure_client_role(target, f"cis_client_race{n % 3}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=set_up, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    roles = query(
        target, "select rolname from pg_roles where rolname like %s", ("cis_client_race%",)
    )
    assert sorted(r[0] for r in roles) == [
        "cis_client_race0",
        "cis_client_race1",
        "cis_client_race2",
    ]
    assert query(target, "select to_regclass('cis.lead_assignments') is not null") == [(True,)]
