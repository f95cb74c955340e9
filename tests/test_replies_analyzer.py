"""The reply analyzer end to end: labels from the fixed sets whatever comes in, the automatic
messages told by their headers, the batch command, and a model that trains the same twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from detectors.replies import corpus
from detectors.replies.analyzer import analyze, analyze_many
from detectors.replies.labels import INTENTS, OBJECTION_TYPES, SENTIMENTS, ReplyAnalysis
from detectors.replies.model import train

REPO = Path(__file__).resolve().parents[1]


def _valid(result: ReplyAnalysis) -> None:
    assert result.intent in INTENTS
    assert result.sentiment in SENTIMENTS
    assert result.objection_type in OBJECTION_TYPES
    assert 0.0 <= result.confidence <= 1.0
    assert result.analyzer_version


def test_hostile_replies_get_labels_and_a_low_confidence() -> None:
    hostile = [
        {"id": "empty", "subject": "", "body": ""},
        {"id": "none", "subject": None, "body": None},
        {"id": "quote-only", "subject": "Re: hi", "body": "> Would Friday work?\n> Sam\n"},
        {"id": "html-mb", "subject": "Re: x", "body": "<div>" * 200_000, "body_format": "html"},
        {"id": "broken", "subject": "Re: x", "body": "caf\udce9 \ufffd\ufffd \x00\x01"},
        {
            "id": "finnish",
            "subject": "Vs: tarjous",
            "body": "Kiitos viestistä, palaamme asiaan ensi viikolla kun johtoryhmä on kokoontunut.",
        },
        {
            "id": 7,
            "subject": 12,
            "body": ["not", "text"],
            "headers": "junk",
            "received_at": "someday",
        },
    ]
    results = analyze_many(hostile)
    assert len(results) == len(hostile)
    for record, result in zip(hostile, results, strict=True):
        _valid(result)
        assert result.confidence < 0.5, (record["id"], result)


def test_interest_said_to_be_absent_is_a_no() -> None:
    # "interested" inside a negation must not count as a yes, in any of the four languages
    noes = [
        "Not interested, thanks.",
        "Honestly we're not really interested.",
        "No interest on our side, please close this out.",
        "Kein Interesse, danke.",
        "Merci, mais pas intéressé.",
        "No nos interesa, gracias.",
    ]
    results = analyze_many(
        [
            {"id": str(i), "subject": "Re: quick question", "body": text}
            for i, text in enumerate(noes)
        ]
    )
    assert [r.intent for r in results] == ["not_interested"] * len(noes), results
    assert all(r.sentiment == "negative" for r in results), results


def test_rfc_3834_headers_mark_an_automatic_reply() -> None:
    body = (
        "Thank you for your message. I am travelling with limited access to email until 12 March."
    )
    headers = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}
    result = analyze(
        {
            "id": "ooo",
            "subject": "Automatic reply: Outbound",
            "body": body,
            "headers": headers,
            "received_at": "2026-03-02T10:00:00+01:00",
        }
    )
    assert result.intent == "out_of_office"
    assert result.objection_type == "none" and result.sentiment == "neutral"
    assert result.ooo_return_date is not None and result.ooo_return_date.isoformat() == "2026-03-12"
    bounce = analyze(
        {
            "id": "b",
            "subject": "Undeliverable: Outbound",
            "from_email": "postmaster@acme.com",
            "body": "Delivery has failed to these recipients or groups:\nana@acme.com\n550 5.1.10 RESOLVER.ADR.RecipientNotFound",
        }
    )
    assert bounce.intent == "bounce"


def test_the_batch_command_keeps_unknown_fields_and_rejects_unreadable_lines(
    tmp_path: Path,
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps(
            {
                "id": "r1",
                "subject": "Re: Outbound",
                "body": "Please take me off your list.",
                "crm_id": 42,
            }
        ),
        "{not json",
        json.dumps({"subject": "no id"}),
        "",
        json.dumps(
            {
                "id": "r2",
                "subject": "Re: Outbound",
                "body": "Thursday at 2pm works, send an invite?",
            }
        ),
    ]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cis.cli",
            "replies",
            "classify",
            "--in",
            str(source),
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["r1", "r2"]
    assert rows[0]["crm_id"] == 42 and rows[0]["intent"] == "unsubscribe"
    assert rows[1]["questions"] == ["Thursday at 2pm works, send an invite?"]
    assert all(row["analyzer_version"] for row in rows)
    rejected = [
        json.loads(line) for line in out.with_suffix(".rejected.jsonl").read_text().splitlines()
    ]
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejected] == [
        (2, "not JSON"),
        (3, "no id"),
    ]
    assert "2 lines rejected" in " ".join(done.stdout.split())


def test_training_is_reproducible() -> None:
    dev = corpus.development()
    texts = [
        {"id": r["id"], "subject": r["subject"], "body": r["body"]} for r in corpus.heldout()[:40]
    ]
    first, second = train(dev), train(dev)
    from detectors.replies.analyzer import prepare

    prepared = [prepare(t).model_text for t in texts]
    assert first.predict(prepared) == second.predict(prepared)


def test_the_split_is_stable_and_disjoint() -> None:
    dev, held = corpus.split_corpus()
    assert {r["id"] for r in dev}.isdisjoint({r["id"] for r in held})
    assert [r["id"] for r in dev] == [r["id"] for r in corpus.development()]
    assert [r["id"] for r in held] == [r["id"] for r in corpus.heldout()]


def test_the_shipped_model_was_trained_on_the_shipped_development_part() -> None:
    import joblib

    from detectors.replies.model import MODEL_FILE, corpus_digest

    shipped = joblib.load(MODEL_FILE)
    assert shipped.trained_on == corpus_digest(corpus.development()), "run `cis replies train`"


def test_evaluate_prints_both_and_writes_the_scores(tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    done = subprocess.run(
        [sys.executable, "-m", "cis.cli", "replies", "evaluate", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rule baseline on heldout" in done.stdout and "analyzer on heldout" in done.stdout
    scores = json.loads(out.read_text())
    assert scores["analyzer"]["size"] == len(corpus.heldout())
    assert 0.0 <= scores["analyzer"]["intent"]["macro_f1"] <= 1.0
