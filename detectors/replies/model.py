"""The small model: one scikit-learn classifier per field (intent, objection, sentiment) over word
and character n-grams of the subject and new text, trained on the corpus' development part.
`cis replies train` rebuilds it; training is deterministic, so the file it writes is the same
on every machine with the same library versions."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import joblib
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from detectors.replies import corpus

MODEL_FILE = Path(__file__).parent / "model" / "reply_model.joblib"
FIELDS = ("intent", "objection_type", "sentiment")
log = logging.getLogger(__name__)


def _pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
        ]
    )
    classifier = LogisticRegression(C=20.0, max_iter=5000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass
class ReplyModel:
    pipelines: dict[str, Pipeline]
    sklearn_version: str
    trained_on: str

    def predict(self, texts: list[str]) -> dict[str, list[tuple[str, float, dict[str, float]]]]:
        """Per field: the label, its probability and every label's probability, per text."""
        out: dict[str, list[tuple[str, float, dict[str, float]]]] = {}
        for field, pipeline in self.pipelines.items():
            probabilities = pipeline.predict_proba(texts)
            classes = list(pipeline.classes_)
            rows = []
            for row in probabilities:
                best = int(row.argmax())
                rows.append(
                    (
                        classes[best],
                        float(row[best]),
                        dict(zip(classes, map(float, row), strict=True)),
                    )
                )
            out[field] = rows
        return out


def corpus_digest(records: list[dict]) -> str:
    ids = "\n".join(
        sorted(f"{r['id']}:{r['intent']}:{r['objection_type']}:{r['sentiment']}" for r in records)
    )
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def train(records: list[dict]) -> ReplyModel:
    from detectors.replies.analyzer import prepare

    texts = [prepare(record).model_text for record in records]
    pipelines = {}
    for field in FIELDS:
        pipeline = _pipeline()
        pipeline.fit(texts, [record[field] for record in records])
        pipelines[field] = pipeline
    return ReplyModel(pipelines, sklearn.__version__, corpus_digest(records))


def save(model: ReplyModel, path: Path = MODEL_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=3)
    return path


_LOADED: ReplyModel | None = None


def load(path: Path = MODEL_FILE) -> ReplyModel:
    """The shipped model; trained afresh from the development part (and not saved) when the file
    is missing or was written by another scikit-learn, whose pickles need not load."""
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    model: ReplyModel | None = None
    if path.exists():
        try:
            candidate = joblib.load(path)
            if candidate.sklearn_version == sklearn.__version__:
                model = candidate
        except Exception as error:
            log.warning("reply model %s did not load (%s); training it again", path, error)
    if model is None:
        model = train(corpus.development())
    _LOADED = model
    return model
