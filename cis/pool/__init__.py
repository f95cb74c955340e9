"""Pure, database-free pool logic: ICP scoring, allocation, widening hints and validation.

Nothing here touches the database, the clock or the environment: the I/O layer reads frames,
passes ``now`` explicitly and writes the results.
"""

from cis.pool.allocation import (
    AllocationPlan,
    AllocationSettings,
    ClientAllocationSummary,
    PlannedAssignment,
    PlannedRelease,
    plan_allocation,
)
from cis.pool.icp import CRITERIA, CRITERION_WEIGHTS, criteria_met, icp_score
from cis.pool.validation import (
    RULE_NAMES,
    RULES,
    RuleFailure,
    ValidationResult,
    ValidationSettings,
    ValidationSummary,
    summarise,
    validate_batch,
    validate_lead,
)
from cis.pool.widen import WideningHint, describe_shortfall, widening_hints

__all__ = [
    "CRITERIA",
    "CRITERION_WEIGHTS",
    "RULES",
    "RULE_NAMES",
    "AllocationPlan",
    "AllocationSettings",
    "ClientAllocationSummary",
    "PlannedAssignment",
    "PlannedRelease",
    "RuleFailure",
    "ValidationResult",
    "ValidationSettings",
    "ValidationSummary",
    "WideningHint",
    "criteria_met",
    "describe_shortfall",
    "icp_score",
    "plan_allocation",
    "summarise",
    "validate_batch",
    "validate_lead",
    "widening_hints",
]
