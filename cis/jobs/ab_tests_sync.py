"""Write config/ab_tests.yml to cis.ab_tests: every test of the file upserted, tests no longer
in the file removed (the tests the marts derive from sequence variants need no row)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from cis.ab_tests import AbTest
from cis.clients import Client
from cis.db import Target, cursor


def sync_ab_tests(target: Target, tests: Sequence[AbTest], clients: Sequence[Client]) -> int:
    """Upsert ``tests`` (their clients must be synced already); return how many were written."""
    client_ids = {c.slug: str(c.client_id) for c in clients}
    with cursor(target) as cur:
        cur.execute(
            "delete from cis.ab_tests where not (test_key = any(%s))", ([t.key for t in tests],)
        )
        for test in tests:
            cur.execute(
                """
                insert into cis.ab_tests (
                    test_key, client_id, provider, campaign_id, step_number, hypothesis,
                    primary_metric, target_sample_size, start_on, end_on, status, variants,
                    synced_at
                ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
                on conflict (test_key) do update set
                    client_id = excluded.client_id,
                    provider = excluded.provider,
                    campaign_id = excluded.campaign_id,
                    step_number = excluded.step_number,
                    hypothesis = excluded.hypothesis,
                    primary_metric = excluded.primary_metric,
                    target_sample_size = excluded.target_sample_size,
                    start_on = excluded.start_on,
                    end_on = excluded.end_on,
                    status = excluded.status,
                    variants = excluded.variants,
                    synced_at = now()
                """,
                (
                    test.key,
                    client_ids[test.client],
                    test.provider,
                    test.campaign_id,
                    test.step,
                    test.hypothesis,
                    test.primary_metric,
                    test.target_sample_size,
                    test.start,
                    test.end,
                    test.status,
                    json.dumps([asdict(arm) for arm in test.arms]),
                ),
            )
    return len(tests)
