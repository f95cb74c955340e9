"""Allocation planning: which available leads go to which client, and what gets released.

Pure and database-free: the I/O layer reads ``dim_leads`` and ``cis.lead_assignments`` into
frames, calls :func:`plan_allocation` with an explicit ``now``, and writes the plan back.

Rules
-----
* Only clients with status ``active`` receive leads; ``paused`` clients keep what they hold and
  get nothing new; a ``cancelled`` client's *active* assignments are all released with reason
  ``client_cancelled`` (converted ones stay with it for good).
* An ``active`` client holding more active assignments than its ``capacity`` (the capacity was
  lowered) gives back the newest extras with reason ``capacity_reduced``: latest ``assigned_at``
  first, ties by the larger ``lead_id``, until it holds exactly ``capacity`` (see
  :func:`over_capacity_releases`). Converted assignments never count and are never released.
  A ``paused`` client is left as it is, over capacity or not ("keeps what it holds"); the
  extras are released on the first run after it is active again.
* A lead is available when its ``pool_status`` is ``available``, no assignment holds it
  (``active`` or ``converted``) and no assignment of it was released after ``now - cooldown``.
  Leads released by this plan (``client_cancelled`` or ``capacity_reduced``) are therefore
  not re-assigned in the same run, and rest for the cooldown like any released lead.
* A lead is eligible for a client when it has an email address, its email status passes the
  email filter (see :class:`AllocationSettings`), its company is not excluded by the client and
  its ICP score is at least the client's ``min_icp_score``.
* A client holds at most ``capacity`` active assignments, and receives at most
  ``daily_new_leads`` new ones per calendar day in its own ``time_zone``: every assignment of the
  client whose ``assigned_at`` falls on the local day of ``now`` counts, whatever its status now
  (no cap when ``daily_new_leads`` is None).
* Competing clients draft: repeatedly, the active client with open capacity and daily room and
  the lowest fill ratio ``(active + assigned) / capacity`` (ties by slug) takes its best
  remaining eligible lead (highest score, ties by ``lead_id``). A lead goes to one client only.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from cis.clients import Client
from cis.pool._frames import (
    AVAILABLE,
    HOLDING_STATUSES,
    column,
    company_excluded_mask,
    ensure_columns,
    id_strings,
    lower_strings,
    to_utc,
    utc_series,
)
from cis.pool.icp import icp_score, meets_min_score

ASSIGNMENT_COLUMNS = (
    "assignment_id",
    "lead_id",
    "client_id",
    "assignment_status",
    "assigned_at",
    "released_at",
    "release_reason",
    "converted_at",
)
# Release reasons the planner writes (cis.lead_assignments.release_reason).
CLIENT_CANCELLED = "client_cancelled"
CAPACITY_REDUCED = "capacity_reduced"
# With ``verified_only=False`` every email status is accepted except these (and a missing one).
PERMISSIVE_BLOCKED_EMAIL_STATUSES = frozenset({"invalid", "unavailable"})


@dataclass(frozen=True)
class AllocationSettings:
    """Allocation knobs.

    Attributes
    ----------
    cooldown_days : int
        A lead released less than this many days before ``now`` is not re-assigned (0: none).
    verified_only : bool
        True: a lead's ``email_status`` must be one of the client's ``allowed_email_statuses``
        (``verified`` by default, some clients also accept ``extrapolated``). False: any status
        is accepted except a missing one and those in ``PERMISSIVE_BLOCKED_EMAIL_STATUSES``
        (``invalid``, and ``unavailable``, Apollo's "no deliverable address").
    """

    cooldown_days: int = 30
    verified_only: bool = True


@dataclass(frozen=True)
class PlannedAssignment:
    """A new active assignment of ``lead_id`` to a client, with the lead's ICP score for it."""

    lead_id: str
    client_id: str
    client_slug: str
    icp_score: float


@dataclass(frozen=True)
class PlannedRelease:
    """An active assignment to release, with a ``release_reason`` from ``cis.lead_assignments``."""

    assignment_id: str
    lead_id: str
    client_id: str
    reason: str


@dataclass(frozen=True)
class ClientAllocationSummary:
    """What the plan does for one client.

    Attributes
    ----------
    client_slug : str
    capacity : int
        Configured capacity (most active assignments the client may hold).
    active_before : int
        Active assignments before the plan (for a cancelled client: all being released).
    assigned_now : int
        Leads the plan assigns to the client.
    open_capacity_after : int
        Open slots left after the plan (capacity minus active assignments, whatever the daily
        cap); 0 for paused and cancelled clients.
    eligible_available : int
        Available leads eligible for this client before the draft, ignoring competition
        (0 for cancelled clients, which are not scored).
    shortfall : int
        Slots an active client wanted but could not fill in this run: ``open_capacity_after``
        limited by the daily room left (``daily_new_leads_left``), 0 for paused and cancelled
        clients. Slots the daily cap holds back are not a shortfall. Feed it to
        ``cis.pool.widen.widening_hints``.
    status : str
        The client's status.
    released_now : int
        Assignments of this client the plan releases: all active ones of a cancelled client
        (``client_cancelled``), the extras of an active client over its capacity
        (``capacity_reduced``).
    daily_new_leads : int or None
        The client's daily new-lead cap (None: no cap).
    assigned_today_before : int
        Assignments the client received earlier on the local day of ``now`` (any status).
    """

    client_slug: str
    capacity: int
    active_before: int
    assigned_now: int
    open_capacity_after: int
    eligible_available: int
    shortfall: int
    status: str = "active"
    released_now: int = 0
    daily_new_leads: int | None = None
    assigned_today_before: int = 0

    @property
    def daily_new_leads_left(self) -> int | None:
        """New leads the client may still receive today after the plan (None: no daily cap)."""
        if self.daily_new_leads is None:
            return None
        return max(self.daily_new_leads - self.assigned_today_before - self.assigned_now, 0)

    @property
    def open_capacity_before(self) -> int:
        """Slots this run could fill before the plan: open capacity, limited by the daily room.

        0 unless the client is active.
        """
        if self.status != "active":
            return 0
        room = max(self.capacity - self.active_before, 0)
        if self.daily_new_leads is not None:
            room = min(room, max(self.daily_new_leads - self.assigned_today_before, 0))
        return room


@dataclass(frozen=True)
class AllocationPlan:
    """The result of :func:`plan_allocation`: new assignments, releases and per-client summaries.

    ``assign`` is in draft order, ``release`` is sorted by client slug and lead id,
    ``summaries`` by client slug.
    """

    assign: list[PlannedAssignment] = field(default_factory=list)
    release: list[PlannedRelease] = field(default_factory=list)
    summaries: list[ClientAllocationSummary] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when the plan assigns and releases nothing."""
        return not self.assign and not self.release

    def summary_for(self, client_slug: str) -> ClientAllocationSummary | None:
        """The summary of one client, or None when the client was not planned."""
        return next((s for s in self.summaries if s.client_slug == client_slug), None)


def prepare_assignments(assignments: pd.DataFrame | None) -> pd.DataFrame:
    """Normalise an assignments frame: str ids, lower-case status, UTC times.

    Parameters
    ----------
    assignments : pandas.DataFrame or None
        History of ``cis.lead_assignments``; missing columns are treated as empty.

    Returns
    -------
    pandas.DataFrame
        Columns ``assignment_id, lead_id, client_id, assignment_status, assigned_at,
        released_at``.
    """
    a = ensure_columns(assignments, ASSIGNMENT_COLUMNS)
    return pd.DataFrame(
        {
            "assignment_id": id_strings(a["assignment_id"]),
            "lead_id": id_strings(a["lead_id"]),
            "client_id": id_strings(a["client_id"]),
            "assignment_status": lower_strings(a["assignment_status"]),
            "assigned_at": utc_series(a["assigned_at"]),
            "released_at": utc_series(a["released_at"]),
        },
        index=a.index,
    )


def available_mask(
    leads: pd.DataFrame,
    assignments: pd.DataFrame | None,
    now: datetime | pd.Timestamp,
    settings: AllocationSettings | None = None,
) -> pd.Series:
    """Which leads are available for allocation to any client.

    Parameters
    ----------
    leads : pandas.DataFrame
        Leads in the ``dim_leads`` shape.
    assignments : pandas.DataFrame or None
        Assignment history.
    now : datetime or pandas.Timestamp
        The planning time (naive values are taken as UTC).
    settings : AllocationSettings, optional
        Cooldown; defaults to ``AllocationSettings()``.

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``leads``: ``pool_status == 'available'``, not held by an active
        or converted assignment, and not released after ``now - cooldown_days``.
    """
    return _available(leads, prepare_assignments(assignments), to_utc(now), settings)


def _available(
    leads: pd.DataFrame,
    a: pd.DataFrame,
    now: pd.Timestamp,
    settings: AllocationSettings | None,
) -> pd.Series:
    """:func:`available_mask` on an already prepared assignments frame."""
    settings = settings or AllocationSettings()
    lead_ids = id_strings(column(leads, "lead_id"))
    in_pool = lower_strings(column(leads, "pool_status")) == AVAILABLE
    blocked = set(a.loc[a["assignment_status"].isin(HOLDING_STATUSES), "lead_id"].dropna())
    if settings.cooldown_days > 0:
        cutoff = now - pd.Timedelta(days=settings.cooldown_days)
        blocked |= set(a.loc[a["released_at"] > cutoff, "lead_id"].dropna())
    return (in_pool & ~lead_ids.isin(blocked) & lead_ids.notna()).astype(bool)


def email_eligible_mask(
    leads: pd.DataFrame, client: Client, settings: AllocationSettings | None = None
) -> pd.Series:
    """Which leads pass the email filter for a client (an address plus an accepted status).

    Parameters
    ----------
    leads : pandas.DataFrame
        Leads in the ``dim_leads`` shape.
    client : Client
        Supplies ``allowed_email_statuses``.
    settings : AllocationSettings, optional
        ``verified_only`` chooses between the client's statuses and the permissive filter.

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``leads``.
    """
    settings = settings or AllocationSettings()
    has_email = lower_strings(column(leads, "email")).notna()
    status = lower_strings(column(leads, "email_status"))
    if settings.verified_only:
        allowed = {str(s).strip().lower() for s in client.allowed_email_statuses}
        ok = status.isin(allowed)
    else:
        ok = status.notna() & ~status.isin(PERMISSIVE_BLOCKED_EMAIL_STATUSES)
    return (has_email & ok).astype(bool)


def client_pool_mask(
    leads: pd.DataFrame,
    assignments: pd.DataFrame | None,
    client: Client,
    now: datetime | pd.Timestamp,
    settings: AllocationSettings | None = None,
) -> pd.Series:
    """Available leads this client could take apart from the ICP score.

    Available (see :func:`available_mask`), passing the email filter and not at one of the
    client's excluded companies.

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``leads``.
    """
    settings = settings or AllocationSettings()
    return (
        available_mask(leads, assignments, now, settings)
        & email_eligible_mask(leads, client, settings)
        & ~company_excluded_mask(leads, client.excluded_companies)
    ).astype(bool)


def local_day_bounds(
    now: datetime | pd.Timestamp, time_zone: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The calendar day of ``now`` in ``time_zone`` as UTC bounds ``[start, end)``.

    Parameters
    ----------
    now : datetime or pandas.Timestamp
        The planning time (naive values are taken as UTC).
    time_zone : str
        An IANA time zone name.

    Returns
    -------
    tuple of pandas.Timestamp
        Local midnight of that day and of the next one, in UTC (a DST day is 23 or 25 hours).
    """
    zone = ZoneInfo(time_zone)
    day = to_utc(now).to_pydatetime().astimezone(zone).date()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return to_utc(start), to_utc(end)


def assigned_today(
    assignments: pd.DataFrame | None, client: Client, now: datetime | pd.Timestamp
) -> int:
    """Assignments a client received on the local day of ``now`` (its ``time_zone``), any status.

    Parameters
    ----------
    assignments : pandas.DataFrame or None
        History of ``cis.lead_assignments`` (``client_id`` and ``assigned_at`` are read).
    client : Client
        Supplies ``client_id`` and ``time_zone``.
    now : datetime or pandas.Timestamp
        The planning time (naive values are taken as UTC).

    Returns
    -------
    int
        What counts against the client's ``daily_new_leads``.
    """
    return _assigned_today(prepare_assignments(assignments), client, to_utc(now))


def _assigned_today(a: pd.DataFrame, client: Client, now: pd.Timestamp) -> int:
    start, end = local_day_bounds(now, client.time_zone)
    mine = a["client_id"] == str(client.client_id)
    when = a["assigned_at"]
    return int((mine & (when >= start) & (when < end)).sum())


@dataclass
class _DraftState:
    client: Client
    client_id: str
    active: int
    candidates: np.ndarray  # positions into the pool, best first
    scores: np.ndarray  # score per pool position
    daily_room: int | None = None  # new leads the client may still take today (None: no cap)
    pointer: int = 0
    taken: list[int] = field(default_factory=list)

    def ratio(self) -> Fraction:
        return Fraction(self.active + len(self.taken), self.client.capacity)

    def has_room(self) -> bool:
        if self.daily_room is not None and len(self.taken) >= self.daily_room:
            return False
        return self.active + len(self.taken) < self.client.capacity


def plan_allocation(
    leads: pd.DataFrame,
    assignments: pd.DataFrame | None,
    clients: Sequence[Client],
    now: datetime | pd.Timestamp,
    settings: AllocationSettings | None = None,
) -> AllocationPlan:
    """Plan assignments and releases for all clients (see the module docstring for the rules).

    Parameters
    ----------
    leads : pandas.DataFrame
        Leads in the ``dim_leads`` shape; duplicate ``lead_id`` rows after the first are ignored.
    assignments : pandas.DataFrame or None
        History of ``cis.lead_assignments``.
    clients : sequence of Client
        All configured clients.
    now : datetime or pandas.Timestamp
        The planning time (naive values are taken as UTC).
    settings : AllocationSettings, optional
        Defaults to ``AllocationSettings()``.

    Returns
    -------
    AllocationPlan
        Deterministic for the same input. Planning again after applying the plan (new active
        assignments, releases with ``released_at = now``) yields an empty plan.
    """
    settings = settings or AllocationSettings()
    now = to_utc(now)
    ordered = sorted(clients, key=lambda c: c.slug)
    a = prepare_assignments(assignments)

    active_rows = a[a["assignment_status"] == "active"]
    active_counts = active_rows.groupby("client_id").size().to_dict()

    releases: list[PlannedRelease] = []
    released_counts: dict[str, int] = {}
    for client in ordered:
        if client.status == "cancelled":
            client_id = str(client.client_id)
            rows = active_rows[active_rows["client_id"] == client_id].sort_values(
                ["lead_id", "assignment_id"], kind="stable"
            )
            mine = [
                PlannedRelease(str(r.assignment_id), str(r.lead_id), client_id, CLIENT_CANCELLED)
                for r in rows.itertuples(index=False)
            ]
        else:
            mine = _over_capacity(active_rows, client)
        if mine:
            releases.extend(mine)
            released_counts[client.slug] = len(mine)

    pool = _available_pool(leads, a, now, settings)
    lead_ids = pool["lead_id"].to_numpy(dtype=object)
    rank = np.empty(len(pool), dtype=np.int64)
    rank[np.argsort(lead_ids.astype(str), kind="stable")] = np.arange(len(pool))

    today_counts = {
        c.slug: _assigned_today(a, c, now) for c in ordered if c.daily_new_leads is not None
    }
    eligible_counts: dict[str, int] = {}
    states: list[_DraftState] = []
    for client in ordered:
        if client.status == "cancelled" or pool.empty:
            eligible_counts[client.slug] = 0
            continue
        scores = icp_score(pool, client.icp)
        eligible = (
            email_eligible_mask(pool, client, settings)
            & ~company_excluded_mask(pool, client.excluded_companies)
            & meets_min_score(scores, client.min_icp_score)
        ).to_numpy(dtype=bool)
        eligible_counts[client.slug] = int(eligible.sum())
        client_id = str(client.client_id)
        active = int(active_counts.get(client_id, 0))
        daily_room = (
            None
            if client.daily_new_leads is None
            else max(client.daily_new_leads - today_counts[client.slug], 0)
        )
        if (
            client.status != "active"
            or active >= client.capacity
            or daily_room == 0
            or not eligible.any()
        ):
            continue
        positions = np.flatnonzero(eligible)
        score_values = scores.to_numpy(dtype=float)
        order = np.lexsort((rank[positions], -score_values[positions]))
        states.append(
            _DraftState(client, client_id, active, positions[order], score_values, daily_room)
        )

    assign = _draft(states, lead_ids)
    assigned_counts: dict[str, int] = {}
    for planned in assign:
        assigned_counts[planned.client_slug] = assigned_counts.get(planned.client_slug, 0) + 1

    summaries = []
    for client in ordered:
        active = int(active_counts.get(str(client.client_id), 0))
        assigned = assigned_counts.get(client.slug, 0)
        open_after = max(client.capacity - active - assigned, 0) if client.status == "active" else 0
        today = today_counts.get(client.slug, 0)
        shortfall = open_after
        if client.daily_new_leads is not None:
            shortfall = min(shortfall, max(client.daily_new_leads - today - assigned, 0))
        summaries.append(
            ClientAllocationSummary(
                client_slug=client.slug,
                capacity=client.capacity,
                active_before=active,
                assigned_now=assigned,
                open_capacity_after=open_after,
                eligible_available=eligible_counts.get(client.slug, 0),
                shortfall=shortfall,
                status=client.status,
                released_now=released_counts.get(client.slug, 0),
                daily_new_leads=client.daily_new_leads,
                assigned_today_before=today,
            )
        )
    return AllocationPlan(assign=assign, release=releases, summaries=summaries)


def over_capacity_releases(
    assignments: pd.DataFrame | None, client: Client
) -> list[PlannedRelease]:
    """The newest active assignments an active client holds beyond its ``capacity``.

    Parameters
    ----------
    assignments : pandas.DataFrame or None
        History of ``cis.lead_assignments`` (all clients; only this client's ``active`` rows
        count, converted ones never do).
    client : Client
        Supplies ``client_id``, ``status`` and ``capacity``.

    Returns
    -------
    list of PlannedRelease
        Reason ``capacity_reduced``: the client's active assignments ordered by ``assigned_at``,
        then ``lead_id``, then ``assignment_id`` (a missing ``assigned_at`` sorts oldest), all
        after the first ``capacity`` of them, so the client keeps its oldest ``capacity``
        assignments. Sorted by ``lead_id``. Empty unless the client's status is ``active``:
        a paused client keeps what it holds, a cancelled one releases everything with reason
        ``client_cancelled`` instead.
    """
    a = prepare_assignments(assignments)
    return _over_capacity(a[a["assignment_status"] == "active"], client)


def _over_capacity(active_rows: pd.DataFrame, client: Client) -> list[PlannedRelease]:
    """:func:`over_capacity_releases` on the prepared ``active`` rows."""
    if client.status != "active":
        return []
    client_id = str(client.client_id)
    rows = active_rows[active_rows["client_id"] == client_id]
    extra = len(rows) - max(int(client.capacity), 0)
    if extra <= 0:
        return []
    oldest_first = rows.sort_values(
        ["assigned_at", "lead_id", "assignment_id"], kind="stable", na_position="first"
    )
    newest = oldest_first.iloc[len(rows) - extra :].sort_values(
        ["lead_id", "assignment_id"], kind="stable"
    )
    return [
        PlannedRelease(str(r.assignment_id), str(r.lead_id), client_id, CAPACITY_REDUCED)
        for r in newest.itertuples(index=False)
    ]


def _available_pool(
    leads: pd.DataFrame, a: pd.DataFrame, now: pd.Timestamp, settings: AllocationSettings
) -> pd.DataFrame:
    """Available leads, one row per lead_id, positional index, with str ``lead_id``."""
    if leads is None or leads.empty:
        return pd.DataFrame({"lead_id": pd.Series([], dtype=object)})
    frame = leads.copy()
    frame["lead_id"] = id_strings(column(frame, "lead_id"))
    frame = frame[frame["lead_id"].notna()].drop_duplicates("lead_id", keep="first")
    mask = _available(frame, a, now, settings)
    return frame[mask].reset_index(drop=True)


def _draft(states: list[_DraftState], lead_ids: np.ndarray) -> list[PlannedAssignment]:
    """Fair draft: lowest fill ratio picks next (ties by slug); each lead goes to one client."""
    taken = np.zeros(len(lead_ids), dtype=bool)
    heap = [(s.ratio(), s.client.slug, i) for i, s in enumerate(states) if s.has_room()]
    heapq.heapify(heap)
    assign: list[PlannedAssignment] = []
    while heap:
        _, _, index = heapq.heappop(heap)
        state = states[index]
        candidates, p = state.candidates, state.pointer
        while p < len(candidates) and taken[candidates[p]]:
            p += 1
        if p >= len(candidates):
            state.pointer = p
            continue  # nothing left this client may take
        position = int(candidates[p])
        state.pointer = p + 1
        taken[position] = True
        state.taken.append(position)
        assign.append(
            PlannedAssignment(
                lead_id=str(lead_ids[position]),
                client_id=state.client_id,
                client_slug=state.client.slug,
                icp_score=float(state.scores[position]),
            )
        )
        if state.has_room():
            heapq.heappush(heap, (state.ratio(), state.client.slug, index))
    return assign
