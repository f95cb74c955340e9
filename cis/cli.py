"""The ``cis`` command: one verb per step of the main job, and ``demo`` to run them all."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cis import db
from cis.bootstrap import bootstrap
from cis.clients import Client, ClientConfigError, load_clients
from cis.pool_settings import PoolSettings, PoolSettingsError, load_pool_settings
from cis.replies_cli import replies_app

app = typer.Typer(help="Agency CIS: lead pool, allocation and validation.", no_args_is_help=True)
db_app = typer.Typer(help="The database: embedded PostgreSQL by default, or CIS_DATABASE_URL.")
ingest_app = typer.Typer(help="Load vendor data into the raw schemas.")
clients_app = typer.Typer(help="Agency clients from config/clients.yml.")
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(clients_app, name="clients")
app.add_typer(replies_app, name="replies")
console = Console()

SettingsFile = Annotated[
    Path, typer.Option("--settings", help="Allocation and validation thresholds (config/pool.yml).")
]
DEFAULT_SETTINGS = db.project_root() / "config" / "pool.yml"
ClientsFile = Annotated[
    Path, typer.Option("--clients", help="Clients config (see docs/clients.md).")
]
DEFAULT_CLIENTS = db.project_root() / "config" / "clients.yml"
AbTestsFile = Annotated[
    Path, typer.Option("--ab-tests", help="Declared A/B tests (see docs/ab-tests.md).")
]
DEFAULT_AB_TESTS = db.project_root() / "config" / "ab_tests.yml"


def _admin() -> db.Target:
    target = db.resolve_target()
    bootstrap(target)
    return target


def _clients(path: Path) -> list[Client]:
    try:
        return load_clients(path)
    except ClientConfigError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _ab_tests(path: Path, clients: list[Client]) -> list:
    from cis.ab_tests import load_ab_tests

    try:
        return load_ab_tests(path, [c.slug for c in clients])
    except ClientConfigError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _settings(path: Path) -> PoolSettings:
    try:
        return load_pool_settings(path)
    except PoolSettingsError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _step(title: str):
    console.rule(f"[bold]{title}")
    return time.perf_counter()


# -- db ---------------------------------------------------------------------------------------


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server (and create the project's roles and schemas)."""
    if os.environ.get(db.DATABASE_URL_ENV):
        console.print(f"{db.DATABASE_URL_ENV} is set: using that server, nothing to start.")
    target = _admin()
    console.print(f"database ready: {target.display_url}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    console.print("stopped" if db.stop_embedded() else "the embedded server was not running")


@db_app.command("status")
def db_status() -> None:
    """Report the embedded server (or the configured URL)."""
    url = os.environ.get(db.DATABASE_URL_ENV)
    if url:
        console.print(f"using {db.DATABASE_URL_ENV}: {db.parse_url(url).display_url}")
        return
    for key, value in db.embedded_status().items():
        console.print(f"{key:12} {value}")


@db_app.command("env")
def db_env() -> None:
    """Print `export` lines for plain dbt, psql and dlt: eval "$(cis db env)"."""
    admin = _admin()
    for key, value in db.shell_env(admin).items():
        typer.echo(f"export {key}={shlex.quote(value)}")
    if admin.password:
        typer.echo("# passwords are not printed: set PGPASSWORD and CIS_DBT_PASSWORD yourself")


@db_app.command("init")
def db_init() -> None:
    """Create roles, the operational schema and row-level security (idempotent)."""
    _admin()
    console.print("roles, cis schema and row-level security are in place")


# -- generate and ingest ------------------------------------------------------------------------


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write.")] = Path("landing"),
    leads: Annotated[int, typer.Option(help="Distinct people to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 7,
    bad_records: Annotated[bool, typer.Option(help="Plant malformed lines and files.")] = True,
    events: Annotated[
        bool,
        typer.Option(help="Also write vendor events (Smartlead, Salesforge, HeyReach, Twilio)."),
    ] = True,
    event_count: Annotated[
        int | None,
        typer.Option(help="Stop the events at this many lines (default: everyone once)."),
    ] = None,
    clients: ClientsFile = DEFAULT_CLIENTS,
) -> None:
    """Write a deterministic demo landing folder in the vendors' own shapes."""
    from cis.generate import generate_landing

    started = time.perf_counter()
    with console.status(f"generating {leads:,} people into {out}"):
        summary = generate_landing(
            out,
            leads,
            seed,
            bad_records=bad_records,
            events=events,
            clients=_clients(clients) if events else None,
            event_count=event_count,
        )
    console.print(
        f"wrote {summary.people_lines} person lines for {summary.distinct_people} people "
        f"to {out} in {time.perf_counter() - started:.1f}s (re-pulls {summary.repulls}, "
        f"same-file repeats {summary.same_file_repeats} ({summary.older_first} older first), "
        f"second Apollo ids {summary.second_ids}, no email {summary.missing_emails}, "
        f"bad lines {sum(summary.bad_lines.values())})"
    )
    if summary.events is not None:
        e = summary.events
        console.print(
            f"wrote {e.total_events:,} vendor events for {e.enrollments:,} enrollments "
            f"(duplicates {sum(e.duplicates.values())}, late {sum(e.late.values())}, "
            f"out-of-order callbacks {e.out_of_order}, malformed lines {e.malformed_total}, "
            f"earlier statistics versions {e.versions}; campaign objects "
            f"{sum(e.campaigns.values())})"
        )
        for kind, count in sorted(e.events.items()):
            console.print(f"  {kind:22} {count:>9,}")


@ingest_app.command("landing")
def ingest_landing(
    dir: Annotated[Path, typer.Option("--dir", help="Landing folder (DESIGN.md layout).")] = Path(
        "landing"
    ),
    clients_file: ClientsFile = DEFAULT_CLIENTS,
    reload: Annotated[
        bool,
        typer.Option(help="Read every file again from the start (its rows are replaced)."),
    ] = False,
) -> None:
    """Load every payload kind found in a landing folder."""
    from cis.jobs.ingest import ingest_landing as run

    if not dir.is_dir():
        console.print(f"[red]error:[/red] landing folder {dir} does not exist")
        raise typer.Exit(2)
    clients = _clients(clients_file) if clients_file.exists() else []
    with console.status(f"loading {dir}"):
        report = run(_admin(), dir, on_wait=_say_waiting, reload=reload)
    _print_load(report, clients)


@ingest_app.command("apollo")
def ingest_apollo(
    clients: ClientsFile = DEFAULT_CLIENTS,
    base_url: Annotated[str | None, typer.Option(help="Apollo base URL override.")] = None,
) -> None:
    """Search Apollo with each active client's ICP and enrich people not in the pool."""
    from cis.jobs.ingest import ingest_apollo_api
    from ingestion.apollo.helpers import ApolloError

    try:
        with console.status("searching and enriching on Apollo"):
            report = ingest_apollo_api(
                _admin(), _clients(clients), base_url=base_url, on_wait=_say_waiting
            )
    except Exception as exc:
        cause = exc
        while cause is not None and not isinstance(cause, ApolloError):
            cause = cause.__cause__ or cause.__context__
        console.print(f"[red]error:[/red] {escape(str(cause or exc))}")
        raise typer.Exit(1) from exc
    _print_load(report)
    stats = report.stats
    if stats:
        console.print(
            f"search pages {stats.search_pages}, slices {stats.search_slices}, people found "
            f"{stats.people_found}, enriched {stats.enriched}, enrichments avoided "
            f"{stats.enrichments_avoided}, organizations enriched {stats.organizations_enriched}, "
            f"retries {stats.retries}"
        )


@ingest_app.command("smartlead")
def ingest_smartlead(
    campaign: Annotated[
        list[str] | None, typer.Option(help="Only this campaign id (repeat for more).")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="Smartlead API base URL override.")] = None,
    lookback_days: Annotated[
        int | None,
        typer.Option(help="Re-read statistics sent this many days before the newest stored."),
    ] = None,
    full_refresh: Annotated[bool, typer.Option(help="Read every statistics row again.")] = False,
    clients_file: ClientsFile = DEFAULT_CLIENTS,
) -> None:
    """Pull campaigns (with sequences and variants) and statistics rows from Smartlead's API."""
    from cis.jobs.ingest_api import ingest_smartlead_api

    with console.status("pulling from Smartlead"), _api_errors():
        report = ingest_smartlead_api(
            _admin(),
            base_url=base_url,
            campaign_ids=campaign,
            lookback_days=lookback_days,
            full_refresh=full_refresh,
            on_wait=_say_waiting,
        )
    _print_api(report, _clients(clients_file) if clients_file.exists() else [])


@ingest_app.command("salesforge")
def ingest_salesforge(
    workspace: Annotated[str | None, typer.Option(help="Salesforge workspace id.")] = None,
    base_url: Annotated[str | None, typer.Option(help="Salesforge API base URL override.")] = None,
) -> None:
    """Pull every sequence (legacy and multichannel, with steps and variants) from Salesforge."""
    from cis.jobs.ingest_api import ingest_salesforge_api

    with console.status("pulling from Salesforge"), _api_errors():
        report = ingest_salesforge_api(
            _admin(), workspace_id=workspace, base_url=base_url, on_wait=_say_waiting
        )
    _print_api(report, [])


@ingest_app.command("hubspot")
def ingest_hubspot(
    base_url: Annotated[str | None, typer.Option(help="HubSpot API base URL override.")] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Write every record, not only those modified since the last.")
    ] = False,
) -> None:
    """Pull deal pipelines, deals (with stage history), meetings and contacts from HubSpot."""
    from cis.jobs.ingest_api import ingest_hubspot_api

    with console.status("pulling from HubSpot"), _api_errors():
        report = ingest_hubspot_api(
            _admin(), base_url=base_url, full_refresh=full_refresh, on_wait=_say_waiting
        )
    _print_api(report, [])


@contextmanager
def _api_errors() -> Iterator[None]:
    """A vendor API's refusal (or a missing key) as one clear line and exit code 1."""
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    from ingestion.http import ApiError

    try:
        yield
    except Exception as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, ApiError | ConfigFieldMissingException):
            cause = cause.__cause__ or cause.__context__
        console.print(f"[red]error:[/red] {escape(str(cause or exc))}")
        raise typer.Exit(1) from exc


def _print_api(report, clients: Sequence[Client]) -> None:
    from cis.clients import campaign_owners

    counts, stats = report.counts, report.stats
    console.print(
        f"{report.dataset}: {sum(counts.rows.values()):,} records fetched in "
        f"{report.seconds:.1f} s, {report.stored:,} new versions stored, "
        f"{report.unchanged:,} unchanged; {counts.rejected} rejected (cis quarantine); "
        f"requests {stats.requests}, retries {stats.retries}"
    )
    for kind, count in sorted(counts.rows.items()):
        console.print(f"  {kind:24} {count:>9,}")
    vendor = report.dataset.removeprefix("raw_")
    claimed = {i for (kind, i) in campaign_owners(clients) if kind == vendor}
    unclaimed = sorted({c for (_kind, c) in counts.campaigns if c not in claimed})
    if clients and unclaimed:
        console.print(f"  campaigns no client claims (clients config): {', '.join(unclaimed)}")


def _say_waiting() -> None:
    console.print("another load into raw_apollo is running: waiting for it to finish")


def _print_load(report, clients: Sequence[Client] = ()) -> None:
    counts = report.counts
    stored = "" if report.stored is None else f" ({report.stored} stored in raw_apollo.people)"
    console.print(
        f"loaded {counts.people} people{stored} from {counts.files} files in "
        f"{report.seconds:.1f}s ({counts.people / report.seconds if report.seconds else 0:,.0f} "
        f"rows/s); rejected {counts.rejected}, suppressed {counts.suppressed}",
        markup=False,
    )
    for rejection in counts.rejections[:10]:
        console.print(f"  [yellow]rejected[/yellow] {escape(rejection.describe())}")
    if len(counts.rejections) > 10:
        console.print(f"  ... and {len(counts.rejections) - 10} more: run `cis quarantine`")
    for event_report in report.events:
        _print_events(event_report, clients)
    for entry in report.unread:
        console.print(f"  [yellow]not loaded[/yellow] {escape(entry.path)}: {entry.reason}")


def _print_events(report, clients: Sequence[Client]) -> None:
    from cis.jobs.ingest_events import unclaimed_campaigns

    counts = report.counts
    read = sum(counts.rows.values())
    rate = read / report.seconds if report.seconds else 0
    console.print(
        f"{report.dataset}: read {read} events from {counts.files} files "
        f"({report.stored} stored) in {report.seconds:.1f}s ({rate:,.0f} rows/s); "
        f"rejected {counts.rejected}",
        markup=False,
    )
    for (kind, name), count in sorted(counts.by_name.items()):
        console.print(f"  {kind} {name}: {count}", markup=False)
    if counts.suppressed:
        console.print(f"  suppressed by a deletion request: {counts.suppressed}", markup=False)
    for campaign, count in unclaimed_campaigns(report, clients).items():
        console.print(
            f"  [yellow]no client claims[/yellow] campaign {escape(campaign)}: {count} events kept"
        )
    for rejection in counts.rejections[:10]:
        console.print(f"  [yellow]rejected[/yellow] {escape(rejection.describe())}")


@app.command()
def quarantine(limit: Annotated[int, typer.Option(help="Rows to show.")] = 50) -> None:
    """List rejected records (raw_*.rejected_records, and CRM records the funnel marts leave
    out) with their reasons."""
    from cis.jobs.quarantine import quarantine_count, quarantined

    target = _admin()
    table = Table("schema", "kind")
    # Long paths and reasons wrap rather than lose their end (the line number, the value).
    table.add_column("file:line", overflow="fold")
    table.add_column("reason", overflow="fold")
    for record in quarantined(target, limit):
        where = f"{record.source_file or 'api'}:{record.source_line or '-'}"
        table.add_row(record.schema, record.record_kind, escape(where), escape(record.reason))
    console.print(table)
    console.print(f"{quarantine_count(target)} rejected records in all")


# -- serve ------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    dir: Annotated[
        Path, typer.Option("--dir", help="Landing folder to write (as for `ingest landing`).")
    ] = Path("landing"),
    max_body: Annotated[int, typer.Option(help="Largest accepted body, in bytes.")] = 1 << 20,
    rotate_mb: Annotated[float, typer.Option(help="Publish a landing file at this size.")] = 64,
    rotate_seconds: Annotated[float, typer.Option(help="Publish a landing file at this age.")] = 60,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="Public base URL the vendors call (https://hooks.example.com), for Twilio's "
            "signature behind a proxy; default: receiver.public_base_url from dlt config."
        ),
    ] = None,
    fsync: Annotated[
        str, typer.Option(help="group (default), or each/off: benchmark references only.")
    ] = "group",
) -> None:
    """Run the webhook receiver: authenticated deliveries fsync'ed to landing before the 2xx."""
    from ingestion.receiver.app import serve as run
    from ingestion.receiver.settings import VENDORS, load_settings

    if fsync not in ("group", "each", "off"):
        console.print(f"error: --fsync must be group, each or off, not {fsync!r}", markup=False)
        raise typer.Exit(2)
    settings = load_settings(
        dir,
        max_body_bytes=max_body,
        rotate_bytes=max(1, int(rotate_mb * (1 << 20))),
        rotate_seconds=rotate_seconds,
        public_base_url=public_url,
        fsync=fsync,
    )
    for vendor in VENDORS.values():
        state = "ready" if settings.secret(vendor.name) else "no secret: refusing (503)"
        console.print(f"/webhooks/{vendor.name:10} -> {dir / vendor.kind}  {state}", markup=False)
    run(settings, host, port)


# -- transform, clients, pool steps -------------------------------------------------------------


@app.command()
def transform(
    select: Annotated[str | None, typer.Option(help="dbt --select expression.")] = None,
) -> None:
    """Run `dbt build` (seeds, models, unit and data tests) on the project's database."""
    from cis.transform import DbtFailed, run_dbt

    target = _admin()
    args = ["build"] + (["--select", select] if select else [])

    def waiting() -> None:
        console.print("another build of this database is running: waiting for it to finish")

    try:
        run_dbt(args, db.transformer_target(target), on_wait=waiting)
    except DbtFailed as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


@clients_app.command("sync")
def clients_sync(
    clients: ClientsFile = DEFAULT_CLIENTS, ab_tests: AbTestsFile = DEFAULT_AB_TESTS
) -> None:
    """Write the clients file to cis.clients (creating each client's read role) and the A/B
    tests file to cis.ab_tests."""
    from cis.jobs.ab_tests_sync import sync_ab_tests
    from cis.jobs.clients_sync import sync_clients

    parsed = _clients(clients)
    tests = _ab_tests(ab_tests, parsed)
    count = sync_clients(_admin(), parsed)
    tested = sync_ab_tests(_admin(), tests, parsed)
    console.print(f"synced {count} clients, {tested} A/B tests")


@app.command()
def allocate(
    clients: ClientsFile = DEFAULT_CLIENTS,
    settings: SettingsFile = DEFAULT_SETTINGS,
    cooldown_days: Annotated[
        int | None, typer.Option(help="Days a released lead rests (overrides the settings).")
    ] = None,
    include_unverified: Annotated[
        bool | None,
        typer.Option(help="Accept any usable email status, not only the client's list."),
    ] = None,
) -> None:
    """Assign available leads to clients by ICP score, within capacity, exclusively."""
    from dataclasses import replace

    from cis.jobs.allocate import allocate as run
    from cis.jobs.clients_sync import sync_clients

    target = _admin()
    parsed = _clients(clients)
    chosen = _settings(settings).allocation
    if cooldown_days is not None:
        chosen = replace(chosen, cooldown_days=cooldown_days)
    if include_unverified is not None:
        chosen = replace(chosen, verified_only=not include_unverified)
    sync_clients(target, parsed)
    outcome = run(target, parsed, chosen)
    table = Table(
        "client",
        "status",
        "capacity",
        "held before",
        "assigned now",
        "released",
        "open after",
        "eligible available",
    )
    for s in outcome.plan.summaries:
        table.add_row(
            s.client_slug,
            s.status,
            str(s.capacity),
            str(s.active_before),
            str(s.assigned_now),
            str(s.released_now),
            str(s.open_capacity_after),
            str(s.eligible_available),
        )
    console.print(table)
    console.print(
        f"inserted {outcome.inserted}, released {outcome.released}, "
        f"refused by the exclusivity index {outcome.skipped_taken}"
    )
    for note in outcome.capacity_notes:
        console.print(f"  [cyan]capacity[/cyan] {escape(note)}")
    for note in outcome.shortfall_notes:
        console.print(f"  [yellow]short[/yellow] {note}")


@app.command()
def validate(
    client: Annotated[
        str | None, typer.Option(help="Client slug (required with --lead; --all: every active).")
    ] = None,
    lead: Annotated[str | None, typer.Option(help="One lead id: the pre-send check.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="The batch form: every active assignment.")
    ] = False,
    channel: Annotated[str, typer.Option(help="email, linkedin, sms or voice.")] = "email",
    clients: ClientsFile = DEFAULT_CLIENTS,
    settings: SettingsFile = DEFAULT_SETTINGS,
) -> None:
    """Check a lead just in time before a touch (exit 0 allowed, 1 blocked, 2 usage error).

    A failure lists every rule that failed. `--all` checks every active assignment instead and
    writes the results to cis.validation_results.
    """
    from cis.jobs.validate import validate_assigned, validate_one
    from cis.pool.validation import CHANNELS

    def usage(message: str) -> NoReturn:
        console.print(f"error: {message}", markup=False, soft_wrap=True)
        raise typer.Exit(2)

    if lead is not None and every:
        usage("give either --lead or --all, not both")
    if lead is None and not every:
        usage("give --lead LEAD_ID (with --client) for one lead, or --all for the batch form")
    if lead is not None and not lead.strip():
        usage("--lead is empty")
    if channel not in CHANNELS:
        usage(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if lead is not None and not client:
        usage("--lead needs --client: a lead is checked for one client")
    parsed = _clients(clients)
    chosen = (
        [c for c in parsed if c.slug == client]
        if client
        else [c for c in parsed if c.status == "active"]
    )
    if not chosen:
        usage(f"no client {client!r} in {clients}" if client else f"no active client in {clients}")
    target = _admin()
    thresholds = _settings(settings).validation
    if lead is not None:
        try:
            result = validate_one(target, chosen[0], lead.strip(), channel, thresholds)
        except LookupError as exc:
            usage(str(exc).strip("'\""))
        verdict = "[green]ALLOWED[/green]" if result.allowed else "[red]BLOCKED[/red]"
        console.print(f"{verdict} {escape(lead)} for {result.client_slug} on {channel}")
        for failure in result.failures:
            console.print(f"  - {failure.rule}: {escape(failure.detail)}")
        raise typer.Exit(0 if result.allowed else 1)
    outcome = validate_assigned(target, chosen, channel, thresholds)
    _print_validation(outcome.summary)


def _share(part: int, whole: int) -> str:
    return f"{part:,}/{whole:,} ({part / whole:.0%})" if whole else "0"


def _print_engagement(target: db.Target) -> None:
    """Touches per channel, human against machine activity, copy coverage and the A/B tests."""
    from cis.jobs.engagement_figures import ab_results, channel_touches, email_engagement

    console.rule("engagement")
    table = Table("measure", "value")
    for c in channel_touches(target):
        table.add_row(
            f"touches: {c.channel}",
            f"{c.touches:,} ({c.activities - c.touches:,} other actions); with a pool lead "
            f"{_share(c.with_lead, c.touches)}, body {_share(c.with_body, c.touches)}, "
            f"local send time {_share(c.with_local_time, c.touches)}",
        )
    email = email_engagement(target)
    if email is not None and email.emails:
        table.add_row(
            "emails opened: human / any open",
            f"{_share(email.opened, email.emails)} / {_share(email.opened_raw, email.emails)}",
        )
        table.add_row(
            "emails clicked: human / any click",
            f"{_share(email.clicked, email.emails)} / {_share(email.clicked_raw, email.emails)}",
        )
        table.add_row("emails replied", _share(email.replied, email.emails))
        table.add_row("machine opens (of all opens)", _share(email.machine_opens, email.opens))
        table.add_row("bot clicks (of all clicks)", _share(email.bot_clicks, email.clicks))
        table.add_row(
            "emails at A/B steps with their variant", _share(email.with_variant, email.at_ab_steps)
        )
    console.print(table)
    results = ab_results(target)
    if not results:
        return
    console.rule("A/B tests (leads per arm; sample-ratio check against the planned split)")
    ab = Table("test", "arm", "leads", "planned", "reply rate", "SRM p", "flag")
    for r in results:
        ab.add_row(
            r.test,
            r.arm + (" (deleted)" if r.is_deleted else ""),
            f"{r.leads:,}",
            f"{r.planned_share:.0%}",
            "-" if r.reply_rate is None else f"{r.reply_rate:.1%}",
            "-" if r.srm_p_value is None else f"{r.srm_p_value:.3g}",
            "[red]SRM[/red]" if r.srm_flag else "",
        )
    console.print(ab)


def _print_threads(target: db.Target) -> None:
    """Threads by status and outcome, what the replies said per client, the agency's response
    time and the replies waiting for a person."""
    from cis.jobs.reply_review import REVIEW_BELOW, count_waiting
    from cis.jobs.thread_figures import thread_figures

    figures = thread_figures(target)
    if figures is None:
        return
    console.rule("threads and replies")
    table = Table("measure", "value")
    for status, outcome, count in figures.by_status_outcome:
        table.add_row(f"threads {status}, outcome {outcome}", f"{count:,}")
    for status, count in figures.replies_by_status:
        table.add_row(f"replies {status}", f"{count:,}")
    if figures.median_response_minutes is None:
        table.add_row("agency median response time", "no thread has an answer from the agency")
    else:
        table.add_row(
            "agency median response time",
            f"{figures.median_response_minutes:,.0f} min ({figures.threads_answered:,} threads)",
        )
    waiting = count_waiting(target, REVIEW_BELOW)
    table.add_row(
        f"replies waiting for review (confidence < {REVIEW_BELOW})",
        f"{waiting:,} (`cis replies review`)",
    )
    console.print(table)
    by_client = Table("client", "reply intents", "objection types")
    clients = sorted({c for c, _i, _n in figures.intents_by_client})
    for client in clients:
        intents = ", ".join(f"{i} {n}" for c, i, n in figures.intents_by_client if c == client)
        objections = ", ".join(
            f"{o} {n}" for c, o, n in figures.objections_by_client if c == client
        )
        by_client.add_row(client, intents, objections or "-")
    console.print(by_client)


def _print_funnel(target: db.Target) -> None:
    """The funnel per client (leads at each step and the conversion from the step before), show
    and no-show rates, the median days in each deal stage, and won revenue by channel under each
    attribution model."""
    from cis.jobs.funnel_figures import STEPS, funnel_figures

    figures = funnel_figures(target)
    if figures is None:
        return
    console.rule("funnel: leads at each step (conversion from the step before)")
    table = Table("client", *(label for _column, label in STEPS))
    for funnel in figures.funnels:
        cells = [f"{funnel.steps[0]:,}"]
        for before, count in zip(funnel.steps, funnel.steps[1:], strict=False):
            cells.append(f"{count:,} ({count / before:.0%})" if before else f"{count:,}")
        table.add_row(funnel.client, *cells)
    console.print(table)
    shows = Table(
        "client", "held", "no-shows", "show rate", "no-show rate", "past, still scheduled"
    )
    for client, held, no_shows, stale in figures.shows:
        decided = held + no_shows
        shows.add_row(
            client,
            f"{held:,}",
            f"{no_shows:,}",
            f"{held / decided:.0%}" if decided else "-",
            f"{no_shows / decided:.0%}" if decided else "-",
            f"{stale:,}",
        )
    console.print(shows)
    stages = Table("pipeline", "stage", "deals that left it", "median days in stage")
    for pipeline, stage, left, days in figures.stage_days:
        stages.add_row(pipeline, stage, f"{left:,}", f"{days:.1f}")
    console.print(stages)
    revenue = Table("attribution model", "currency", "won revenue by channel")
    models = sorted({(m, c) for m, c, _ch, _a in figures.revenue})
    for model, currency in models:
        shares = ", ".join(
            f"{channel} {amount:,.0f}"
            for m, c, channel, amount in figures.revenue
            if (m, c) == (model, currency)
        )
        revenue.add_row(model, currency, shares)
    console.print(revenue)
    if figures.contacts:
        matched = ", ".join(f"{method} {count:,}" for method, count in figures.contacts)
        console.print(f"CRM contacts by how they matched a pool lead: {matched}", markup=False)


def _print_validation(summary) -> None:
    console.print(
        f"checked {summary.checked}: allowed {summary.allowed}, blocked {summary.blocked} "
        f"(block rate {summary.block_rate:.1%})"
    )
    table = Table("rule", "leads failing")
    for rule, count in sorted(summary.failures_by_rule.items(), key=lambda kv: -kv[1]):
        table.add_row(rule, str(count))
    console.print(table)


@app.command()
def forget(
    email: Annotated[str | None, typer.Option(help="The person's email.")] = None,
    linkedin_url: Annotated[str | None, typer.Option(help="The person's LinkedIn URL.")] = None,
    apollo_id: Annotated[str | None, typer.Option(help="The person's Apollo id.")] = None,
) -> None:
    """Honour a deletion request: anonymise, release, audit and suppress future pulls."""
    from cis.jobs.forget import forget_person

    try:
        outcome = forget_person(_admin(), email, linkedin_url, apollo_id)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    console.print(outcome)
    console.print("run `cis transform` to rebuild the marts without the person's data")


@app.command()
def gaps() -> None:
    """Field reach (landing values that reach a mart) and, per detector field, rows with a value."""
    _print_gaps(_admin())


def _print_gaps(target: db.Target, every_field: bool = True) -> None:
    from cis.jobs.gaps import completeness
    from cis.jobs.reach import field_reach, overall_share, reach_by_entity

    reach = field_reach(target)
    if reach:
        table = Table("entity", "field", "values", "in marts", "reach")
        shown = reach if every_field else reach_by_entity(reach) + [r for r in reach if r.share < 1]
        for row in shown:
            colour = "green" if row.share >= 1 else "red"
            table.add_row(
                row.entity,
                row.field,
                str(row.values),
                str(row.reached),
                f"[{colour}]{row.share:.1%}[/{colour}]",
            )
        console.print(table)
        console.print(
            f"field reach: {overall_share(reach):.1%} of the landing's values (newest record of "
            "each lead, organization and employment history) reach a mart"
        )

    table = Table("mart", "field", "filled", "rows", "share")
    for gap in completeness(target):
        colour = "green" if gap.share >= 0.9 else "yellow" if gap.share >= 0.6 else "red"
        table.add_row(
            gap.mart,
            gap.field,
            str(gap.filled),
            str(gap.rows),
            f"[{colour}]{gap.share:.0%}[/{colour}]",
        )
    console.print(table)


DEMO_CHANNELS = ("email", "linkedin", "sms")


# -- demo -------------------------------------------------------------------------------------


@app.command()
def demo(
    leads: Annotated[int, typer.Option(help="Distinct people to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    out: Annotated[Path | None, typer.Option(help="Landing folder.")] = None,
    clients: ClientsFile = DEFAULT_CLIENTS,
    settings: SettingsFile = DEFAULT_SETTINGS,
) -> None:
    """The main job end to end: database, demo data, ingest, dbt build, pool steps, summary."""
    from cis.generate import generate_landing
    from cis.jobs.ab_tests_sync import sync_ab_tests
    from cis.jobs.allocate import allocate as run_allocate
    from cis.jobs.analyze_replies import analyze_replies
    from cis.jobs.clients_sync import sync_clients
    from cis.jobs.event_figures import event_table_figures, rejections_by_reason
    from cis.jobs.ingest import ingest_landing as run_ingest
    from cis.jobs.quarantine import quarantine_count
    from cis.jobs.summary import pool_figures
    from cis.jobs.validate import validate_assigned
    from cis.replies_cli import print_analyze_outcome
    from cis.transform import DbtFailed, run_dbt

    timings: dict[str, float] = {}
    landing = out or db.state_dir() / "landing" / f"demo-{leads}-{seed}"
    parsed = _clients(clients)
    pool_settings = _settings(settings)

    started = _step("database")
    target = _admin()
    console.print(target.display_url)
    timings["database"] = time.perf_counter() - started

    started = _step("generate")
    with console.status(f"generating {leads:,} people"):
        generated = generate_landing(landing, leads, seed, events=True, clients=parsed)
    console.print(
        f"{generated.people_lines} person lines, {len(generated.files)} files -> {landing}"
    )
    if generated.events is not None:
        console.print(f"{generated.events.total_events:,} vendor events", markup=False)
    timings["generate"] = time.perf_counter() - started

    started = _step("ingest landing")
    with console.status(f"loading {landing}"):
        report = run_ingest(target, landing)
    _print_load(report, parsed)
    timings["ingest"] = time.perf_counter() - started

    started = _step("clients sync")
    sync_clients(target, parsed)
    tested = sync_ab_tests(target, _ab_tests(DEFAULT_AB_TESTS, parsed), parsed)
    console.print(f"{len(parsed)} clients, read roles {', '.join(c.db_role for c in parsed)}")
    console.print(f"{tested} A/B tests declared in {DEFAULT_AB_TESTS}", markup=False)

    try:
        started = _step("dbt build")
        with console.status("dbt build: seeds, models, unit and data tests"):
            run_dbt(["build"], db.transformer_target(target), quiet=True)
        timings["dbt build"] = time.perf_counter() - started

        started = _step("allocate")
        outcome = run_allocate(target, parsed, pool_settings.allocation)
        console.print(f"assigned {outcome.inserted}, released {outcome.released}")
        for note in outcome.shortfall_notes:
            console.print(f"  [yellow]short[/yellow] {note}")
        timings["allocate"] = time.perf_counter() - started

        started = _step("validate (every active assignment, per channel)")
        active = [c for c in parsed if c.status == "active"]
        validations = {
            channel: validate_assigned(target, active, channel, pool_settings.validation).summary
            for channel in DEMO_CHANNELS
        }
        timings["validate"] = time.perf_counter() - started

        started = _step("analyze replies")
        replied = analyze_replies(target)
        print_analyze_outcome(replied)
        timings["analyze replies"] = time.perf_counter() - started

        started = _step("dbt build (assignments and reply analyses into the marts)")
        run_dbt(
            ["build", "--select", "stg_cis__lead_assignments+ stg_cis__reply_analyses+"],
            db.transformer_target(target),
            quiet=True,
        )
        timings["dbt rebuild"] = time.perf_counter() - started
    except DbtFailed as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc

    _step("summary")
    figures = pool_figures(target, report.counts.fields_seen)
    table = Table("measure", "value")
    counts = report.counts
    table.add_row(
        "person records stored / good lines read (this load)",
        f"{report.stored or 0:,} / {counts.people:,}"
        f" ({counts.suppressed} suppressed, {counts.rejected} rejected)",
    )
    table.add_row("person records in raw_apollo.people", f"{figures.person_rows:,}")
    table.add_row("pool size (leads)", f"{figures.leads:,}")
    table.add_row("Apollo ids", f"{figures.apollo_ids:,}")
    table.add_row("Apollo ids merged into another lead", f"{figures.duplicates_merged:,}")
    table.add_row("further records of an Apollo id", f"{figures.repulls_merged:,}")
    table.add_row(
        "attribute history versions",
        f"{figures.history_versions:,} ({figures.leads_with_history:,} leads changed)",
    )
    table.add_row(
        "Apollo fields stored",
        f"{figures.fields_stored}/{figures.fields_seen} ({figures.fields_stored_share:.0%})",
    )
    table.add_row(
        "field reach (landing values in the marts)",
        f"{figures.reach_reached:,}/{figures.reach_values:,} ({figures.reach_share:.1%})",
    )
    table.add_row("verified email share", f"{figures.verified_share:.1%}")
    for slug, count in figures.assignments_by_client.items():
        table.add_row(f"assigned to {slug}", f"{count:,}")
    table.add_row("lead collision rate", f"{figures.collision_rate:.2%} ({figures.collisions})")
    table.add_row("pool utilisation", f"{figures.utilisation:.1%}")
    for status, count in figures.status_counts.items():
        table.add_row(f"pool status {status}", f"{count:,}")
    table.add_row("rejected records (quarantine)", f"{quarantine_count(target):,}")
    for schema, reason, count in rejections_by_reason(target):
        table.add_row(f"  {schema}: {reason}", f"{count:,}")
    for events in event_table_figures(target):
        table.add_row(
            f"events in {events.relation}",
            f"{events.rows:,} ({events.duplicates:,} duplicate deliveries)",
        )
    for event_report in report.events:
        read = sum(event_report.counts.rows.values())
        rate = read / event_report.seconds if event_report.seconds else 0.0
        table.add_row(f"load {event_report.dataset}", f"{read:,} events, {rate:,.0f} events/s")
    for step, seconds in timings.items():
        table.add_row(f"time: {step}", f"{seconds:.1f}s")
    console.print(table)
    if figures.missing_fields:
        console.print(f"[yellow]fields not stored:[/yellow] {', '.join(figures.missing_fields)}")
    if figures.reach_missing:
        console.print(
            f"[yellow]fields short of the marts:[/yellow] {', '.join(figures.reach_missing)} "
            "(`cis gaps` shows each)"
        )
    _print_engagement(target)
    _print_threads(target)
    for channel, summary in validations.items():
        console.rule(f"validation: {channel}")
        _print_validation(summary)
    console.rule("field reach and data completeness")
    _print_gaps(target, every_field=False)
    _print_funnel(target)
    console.print(f"done at {datetime.now(tz=UTC):%Y-%m-%d %H:%M:%S} UTC")


if __name__ == "__main__":
    app()
