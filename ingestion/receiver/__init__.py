"""The webhook receiver (``cis serve``): authenticated deliveries appended durably to landing.

See docs/receiver.md. Modules: :mod:`~ingestion.receiver.settings` (vendors, limits, secrets
through dlt), :mod:`~ingestion.receiver.auth` (per-vendor checks),
:mod:`~ingestion.receiver.writer` (group-commit appender, rotation, recovery) and
:mod:`~ingestion.receiver.app` (the Starlette app and ``serve``).
"""
