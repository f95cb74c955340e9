"""CIS detectors (WHO, WHAT, WHEN, HOW, conversation, funnel): pure functions over mart frames.

Each detector is ``detect(frames, config) -> list[Finding]``; the batch runner, the findings
store and the report arrive with the detectors phase (DESIGN.md, roadmap phase 5). The types
below are the contract the marts and the report are built against.
"""

from detectors.findings import Finding, Severity

__all__ = ["Finding", "Severity"]
