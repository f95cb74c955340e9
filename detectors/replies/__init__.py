"""The reply analyzer: intent, sentiment, objection, questions, referral and return date of each
inbound reply, local and deterministic (docs/replies.md)."""
