"""The analyzer's input and output: field names and label sets are the contract dbt reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

ANALYZER_VERSION = "replies-0.3.0"

Intent = Literal[
    "interested",
    "meeting_request",
    "info_request",
    "referral",
    "not_interested",
    "unsubscribe",
    "out_of_office",
    "auto_reply",
    "wrong_person",
    "bounce",
]
Sentiment = Literal["positive", "neutral", "negative"]
ObjectionType = Literal["none", "pricing", "timing", "no_need", "competitor", "authority", "trust"]

INTENTS: tuple[str, ...] = get_args(Intent)
SENTIMENTS: tuple[str, ...] = get_args(Sentiment)
OBJECTION_TYPES: tuple[str, ...] = get_args(ObjectionType)
AUTOMATIC_INTENTS = frozenset({"out_of_office", "auto_reply", "bounce"})


class ReplyInput(BaseModel):
    """One inbound reply as the analyzer reads it; fields it does not know are kept."""

    model_config = ConfigDict(extra="allow")

    id: str
    subject: str | None = ""
    body: str | None = ""
    body_format: Literal["text", "html"] | None = None
    headers: dict[str, str] | None = None
    received_at: datetime | None = None
    language: str | None = None


class ReplyAnalysis(BaseModel):
    """The analyzer's output for one reply (the field names of issue and docs/replies.md)."""

    intent: Intent
    sentiment: Sentiment
    sentiment_score: float = Field(ge=-1.0, le=1.0)
    objection_type: ObjectionType
    questions: list[str]
    referral_email: str | None
    ooo_return_date: date | None
    confidence: float = Field(ge=0.0, le=1.0)
    analyzer_version: str = ANALYZER_VERSION
