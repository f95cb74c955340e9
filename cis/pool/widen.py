"""Widening hints: when a client cannot fill its open slots, which ICP relaxation would help.

For every specified ICP criterion the hint says how the number of eligible available leads
changes when the criterion is dropped from the ICP (as if removed from ``config/clients.yml``;
the score is renormalised over the remaining criteria, so a few leads can also drop out), and
how many leads lowering ``min_icp_score`` in 0.1 steps would add. Competition with other clients
is ignored: the counts are for this client alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from cis.clients import Client
from cis.pool.allocation import AllocationSettings, ClientAllocationSummary, client_pool_mask
from cis.pool.icp import CRITERIA, criteria_met, meets_min_score, score_from_met

MIN_SCORE_CRITERION = "min_icp_score"
MIN_SCORE_STEP = 0.1
CRITERION_LABELS = {
    "seniorities": "seniority filter",
    "titles": "title keywords",
    "departments": "department filter",
    "industries": "industry filter",
    "employee_range": "employee range",
    "countries": "country filter",
    "keywords": "organisation keywords",
}


@dataclass(frozen=True)
class WideningHint:
    """One possible relaxation of a client's ICP and what it would change.

    Attributes
    ----------
    criterion : str
        An ICP criterion from ``cis.pool.icp.CRITERIA`` or ``"min_icp_score"``.
    description : str
        Plain English, e.g. "dropping the seniority filter adds 57 leads".
    extra_leads : int
        Net change in eligible available leads (gained - lost); can be 0 or negative for a
        dropped criterion because scores renormalise over the remaining criteria.
    gained : int
        Leads that become eligible.
    lost : int
        Leads that stop being eligible (always 0 for ``min_icp_score``).
    min_icp_score : float or None
        For ``min_icp_score`` hints: the lowered threshold.
    """

    criterion: str
    description: str
    extra_leads: int
    gained: int = 0
    lost: int = 0
    min_icp_score: float | None = None


def widening_hints(
    leads: pd.DataFrame,
    assignments: pd.DataFrame | None,
    client: Client,
    now: datetime | pd.Timestamp,
    settings: AllocationSettings | None,
    shortfall: int,
) -> list[WideningHint]:
    """Hints for widening a client's ICP when it is short of eligible leads.

    Parameters
    ----------
    leads : pandas.DataFrame
        Leads in the ``dim_leads`` shape.
    assignments : pandas.DataFrame or None
        Assignment history (availability and cooldown as in allocation).
    client : Client
        The client that is short.
    now : datetime or pandas.Timestamp
        The planning time.
    settings : AllocationSettings or None
        Allocation settings (cooldown, email filter); None for the defaults.
    shortfall : int
        Open slots the client could not fill (``ClientAllocationSummary.shortfall``). No hints
        when it is 0 or less. Lowering ``min_icp_score`` stops at the first step that covers it.

    Returns
    -------
    list of WideningHint
        One hint per specified criterion, plus one per ``min_icp_score`` step that adds more
        leads than the previous step; sorted by ``extra_leads`` descending (criteria before
        score steps, in ``CRITERIA`` order, on ties). Empty when nothing is short or no lead is
        available to the client at all.
    """
    if shortfall <= 0:
        return []
    pool = leads[client_pool_mask(leads, assignments, client, now, settings)]
    if pool.empty:
        return []
    met = criteria_met(pool, client.icp)
    scores = score_from_met(met)
    base = meets_min_score(scores, client.min_icp_score)

    ranked: list[tuple[int, int, WideningHint]] = []
    for criterion in met.columns:
        relaxed = meets_min_score(
            score_from_met(met.drop(columns=[criterion])), client.min_icp_score
        )
        gained = int((relaxed & ~base).sum())
        lost = int((base & ~relaxed).sum())
        hint = WideningHint(
            criterion=criterion,
            description=_describe_drop(criterion, gained, lost),
            extra_leads=gained - lost,
            gained=gained,
            lost=lost,
        )
        ranked.append((-hint.extra_leads, CRITERIA.index(criterion), hint))

    previous = 0
    for step, threshold in enumerate(_lower_thresholds(client.min_icp_score)):
        gained = int((meets_min_score(scores, threshold) & ~base).sum())
        if gained > previous:
            hint = WideningHint(
                criterion=MIN_SCORE_CRITERION,
                description=(
                    f"lowering min_icp_score from {client.min_icp_score:g} to {threshold:g} "
                    f"adds {_leads(gained)}"
                ),
                extra_leads=gained,
                gained=gained,
                min_icp_score=threshold,
            )
            ranked.append((-gained, len(CRITERIA) + step, hint))
            previous = gained
        if gained >= shortfall:
            break
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [hint for _, _, hint in ranked]


def describe_shortfall(
    summary: ClientAllocationSummary, hints: Sequence[WideningHint], max_hints: int = 3
) -> str:
    """A one-sentence, plain-English account of a client's shortfall and the best relaxations.

    Parameters
    ----------
    summary : ClientAllocationSummary
        The client's line of the allocation plan.
    hints : sequence of WideningHint
        From :func:`widening_hints` (best first); only hints that add leads are mentioned.
    max_hints : int
        At most this many hints are mentioned.

    Returns
    -------
    str
        E.g. "ICP for northwind has 12 eligible leads for 50 open slots (short by 38);
        dropping the seniority filter adds 57 leads, lowering min_icp_score from 0.6 to 0.5
        adds 20 leads."
    """
    open_slots = summary.open_capacity_before
    text = (
        f"ICP for {summary.client_slug} has {_leads(summary.eligible_available, 'eligible lead')}"
        f" for {_leads(open_slots, 'open slot')}"
    )
    if summary.shortfall <= 0:
        return f"{text}; no shortfall."
    if summary.eligible_available >= open_slots:
        text += f" (short by {summary.shortfall}: leads shared with other clients)"
    else:
        text += f" (short by {summary.shortfall})"
    useful = [h.description for h in hints if h.extra_leads > 0][: max(max_hints, 0)]
    if not useful:
        return f"{text}; no single relaxation of the ICP adds leads."
    return f"{text}; {', '.join(useful)}."


def _leads(count: int, noun: str = "lead") -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _describe_drop(criterion: str, gained: int, lost: int) -> str:
    label = CRITERION_LABELS.get(criterion, criterion)
    net = gained - lost
    if net > 0:
        text = f"dropping the {label} adds {_leads(net)}"
    elif net == 0:
        text = f"dropping the {label} adds no leads"
    else:
        text = f"dropping the {label} loses {_leads(-net)}"
    if lost:
        text += f" ({gained} gained, {lost} lost as scores renormalise)"
    return text


def _lower_thresholds(min_icp_score: float) -> list[float]:
    """Thresholds below ``min_icp_score`` in 0.1 steps, down to 0 (rounded to 2 decimals)."""
    steps = math.ceil(round(min_icp_score / MIN_SCORE_STEP, 6))
    values = [max(round(min_icp_score - MIN_SCORE_STEP * k, 2), 0.0) for k in range(1, steps + 1)]
    return sorted({v for v in values if v < min_icp_score}, reverse=True)
