"""Write config/clients.yml to cis.clients and give each client its read role.

Besides the ICP and capacity, each row carries the client's vendor campaigns (``campaigns``, the
ids that attribute events to it) and its sending settings (``daily_new_leads``, ``daily_sends``,
``sending_days``, ``time_zone``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from cis.bootstrap import ensure_client_role
from cis.clients import Client
from cis.db import Target, cursor


def sync_clients(target: Target, clients: Sequence[Client]) -> int:
    """Upsert every client (status changes included); return how many were written."""
    for client in clients:
        ensure_client_role(target, client.db_role)
    with cursor(target) as cur:
        for client in clients:
            icp = {k: v for k, v in client.icp.__dict__.items() if v not in ((), None)}
            cur.execute(
                """
                insert into cis.clients (
                    client_id, client_slug, client_name, client_status, capacity, min_icp_score,
                    icp, excluded_companies, required_fields, allowed_email_statuses, db_role,
                    config_hash, campaigns, daily_new_leads, daily_sends, sending_days,
                    time_zone, synced_at, cancelled_at
                ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                          now(), case when %s = 'cancelled' then now() end)
                on conflict (client_id) do update set
                    client_name = excluded.client_name,
                    client_status = excluded.client_status,
                    capacity = excluded.capacity,
                    min_icp_score = excluded.min_icp_score,
                    icp = excluded.icp,
                    excluded_companies = excluded.excluded_companies,
                    required_fields = excluded.required_fields,
                    allowed_email_statuses = excluded.allowed_email_statuses,
                    config_hash = excluded.config_hash,
                    campaigns = excluded.campaigns,
                    daily_new_leads = excluded.daily_new_leads,
                    daily_sends = excluded.daily_sends,
                    sending_days = excluded.sending_days,
                    time_zone = excluded.time_zone,
                    synced_at = now(),
                    cancelled_at = case
                        when excluded.client_status = 'cancelled'
                            then coalesce(cis.clients.cancelled_at, now())
                    end
                """,
                (
                    str(client.client_id),
                    client.slug,
                    client.name,
                    client.status,
                    client.capacity,
                    client.min_icp_score,
                    json.dumps(icp),
                    json.dumps(list(client.excluded_companies)),
                    json.dumps(list(client.required_fields)),
                    json.dumps(list(client.allowed_email_statuses)),
                    client.db_role,
                    client.config_hash,
                    json.dumps(asdict(client.campaigns)),
                    client.daily_new_leads,
                    client.daily_sends,
                    json.dumps(list(client.sending_days)),
                    client.time_zone,
                    client.status,
                ),
            )
    return len(clients)
