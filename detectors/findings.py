"""The typed result every detector returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    OPPORTUNITY = "opportunity"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One actionable result with the statistics behind it.

    Attributes
    ----------
    detector:
        WHO, WHAT, WHEN, HOW, conversation or funnel.
    client_id:
        The agency client the finding is about (findings are client-scoped like the marts).
    statement:
        The finding in one sentence a sales team can act on.
    effect, ci_low, ci_high:
        Effect size and its confidence interval (e.g. a difference in meeting rate).
    p_value, sample_size:
        The test behind it; detectors rank on replies and meetings, never on raw opens.
    """

    detector: str
    client_id: str
    statement: str
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    sample_size: int
    severity: Severity = Severity.INFO
    evidence: dict[str, object] = field(default_factory=dict)
