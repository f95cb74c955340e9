"""Scores on a labelled part of the corpus: per-class precision and recall, macro-F1 and the
confusion matrix of intent and objection type (scikit-learn's metrics), for the analyzer and
for the rule baseline, and how often questions, address and return date come out exactly."""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from detectors.replies import rules
from detectors.replies.analyzer import analyze_many, prepare
from detectors.replies.labels import INTENTS, OBJECTION_TYPES

HIGH_PRECISION = ("out_of_office", "auto_reply", "bounce")
TARGETS = {"intent_macro_f1": 0.90, "objection_macro_f1": 0.80, "high_precision": 0.98}


@dataclass
class FieldScore:
    labels: tuple[str, ...]
    precision: dict[str, float]
    recall: dict[str, float]
    support: dict[str, int]
    macro_f1: float
    confusion: list[list[int]]


@dataclass
class Evaluation:
    name: str
    size: int
    intent: FieldScore
    objection: FieldScore
    sentiment_accuracy: float
    questions_exact: float
    referral_exact: float
    return_date_exact: float

    def meets_targets(self) -> bool:
        return (
            self.intent.macro_f1 >= TARGETS["intent_macro_f1"]
            and self.objection.macro_f1 >= TARGETS["objection_macro_f1"]
            and all(self.intent.precision[c] >= TARGETS["high_precision"] for c in HIGH_PRECISION)
        )


def score_field(truth: list[str], predicted: list[str], labels: tuple[str, ...]) -> FieldScore:
    present = tuple(label for label in labels if label in truth or label in predicted)
    precision, recall, _, support = precision_recall_fscore_support(
        truth, predicted, labels=list(present), zero_division=0
    )
    return FieldScore(
        labels=present,
        precision=dict(zip(present, map(float, precision), strict=True)),
        recall=dict(zip(present, map(float, recall), strict=True)),
        support=dict(zip(present, map(int, support), strict=True)),
        macro_f1=float(
            f1_score(truth, predicted, labels=list(present), average="macro", zero_division=0)
        ),
        confusion=confusion_matrix(truth, predicted, labels=list(present)).tolist(),
    )


def _squash(text: str) -> str:
    return " ".join(text.split())


def evaluate(records: list[dict], name: str = "held-out") -> tuple[Evaluation, Evaluation]:
    """The analyzer's scores and the rule baseline's, on the same records."""
    results = analyze_many(records)
    baseline_intents, baseline_objections, baseline_sentiments = [], [], []
    for record in records:
        prepared = prepare(record)
        text = f"{record.get('subject') or ''}\n{prepared.parts.new_text}"
        intent = prepared.automatic or rules.baseline_intent(prepared.parts.new_text)
        baseline_intents.append(intent)
        baseline_objections.append("none" if prepared.automatic else rules.baseline_objection(text))
        baseline_sentiments.append(rules.baseline_sentiment(intent, text))

    def share(hits: list[bool]) -> float:
        return sum(hits) / len(hits) if hits else 1.0

    truth_intents = [r["intent"] for r in records]
    truth_objections = [r["objection_type"] for r in records]
    analyzer = Evaluation(
        name=f"analyzer on {name}",
        size=len(records),
        intent=score_field(truth_intents, [a.intent for a in results], INTENTS),
        objection=score_field(
            truth_objections, [a.objection_type for a in results], OBJECTION_TYPES
        ),
        sentiment_accuracy=share(
            [a.sentiment == r["sentiment"] for a, r in zip(results, records, strict=True)]
        ),
        questions_exact=share(
            [
                [_squash(q) for q in a.questions] == [_squash(q) for q in r["questions"]]
                for a, r in zip(results, records, strict=True)
            ]
        ),
        referral_exact=share(
            [
                (a.referral_email or "").lower() == (r["referral_email"] or "").lower()
                for a, r in zip(results, records, strict=True)
            ]
        ),
        return_date_exact=share(
            [
                (a.ooo_return_date.isoformat() if a.ooo_return_date else None)
                == r["ooo_return_date"]
                for a, r in zip(results, records, strict=True)
                if r["intent"] == "out_of_office"
            ]
        ),
    )
    baseline = Evaluation(
        name=f"rule baseline on {name}",
        size=len(records),
        intent=score_field(truth_intents, baseline_intents, INTENTS),
        objection=score_field(truth_objections, baseline_objections, OBJECTION_TYPES),
        sentiment_accuracy=share(
            [s == r["sentiment"] for s, r in zip(baseline_sentiments, records, strict=True)]
        ),
        questions_exact=analyzer.questions_exact,
        referral_exact=analyzer.referral_exact,
        return_date_exact=analyzer.return_date_exact,
    )
    return analyzer, baseline
