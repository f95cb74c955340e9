"""``cis replies``: the reply analyzer from the command line (docs/replies.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from detectors.replies.labels import ReplyAnalysis
    from detectors.replies.llm import LlmBackend

replies_app = typer.Typer(
    help="The reply analyzer: classify, evaluate, train.", no_args_is_help=True
)
console = Console()
BATCH = 500
BACKEND_HELP = (
    "local (the default) or anthropic (needs ANTHROPIC_API_KEY; CIS_REPLIES_MODEL names the"
    " model). Default: CIS_REPLIES_BACKEND, else local."
)


def _backend(name: str | None) -> LlmBackend | None:
    """The LLM backend asked for (None: local); a clear error when it cannot be used."""
    from detectors.replies.llm import BackendNotConfigured, backend_from_env

    try:
        return backend_from_env(name)
    except BackendNotConfigured as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


def _labelled(line: str) -> tuple[dict | None, str | None]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return None, f"not JSON: {error.msg} at column {error.colno}"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    if record.get("id") in (None, ""):
        return None, "no id"
    return record, None


@replies_app.command()
def classify(
    source: Annotated[Path, typer.Option("--in", help="JSON Lines: id, subject, body per line.")],
    out: Annotated[Path, typer.Option("--out", help="Each input line plus the analyzer's fields.")],
    backend: Annotated[str | None, typer.Option(help=BACKEND_HELP)] = None,
) -> None:
    """Label every reply of a JSON Lines file. Lines that cannot be read go, with their line
    number and reason, to OUT.rejected.jsonl; nothing is dropped silently."""
    from detectors.replies.analyzer import analyze_many, try_prepare
    from detectors.replies.llm import analyze_with_llm

    chosen = _backend(backend)

    def labels(records: list[dict]) -> list[ReplyAnalysis]:
        if chosen is None:
            return analyze_many(records)
        prepared = [try_prepare(record) for record in records]
        return [analysis for analysis, _ in analyze_with_llm(prepared, chosen)]

    if not source.exists():
        console.print(f"[red]{source} does not exist[/red]")
        raise typer.Exit(2)
    rejected_path = out.with_suffix(".rejected.jsonl")
    written = rejected = 0
    with (
        source.open(encoding="utf-8", errors="replace") as lines,
        out.open("w", encoding="utf-8") as output,
        rejected_path.open("w", encoding="utf-8") as rejects,
    ):
        batch: list[dict] = []

        def flush() -> None:
            nonlocal written
            for record, analysis in zip(batch, labels(batch), strict=True):
                output.write(
                    json.dumps({**record, **analysis.model_dump(mode="json")}, ensure_ascii=False)
                    + "\n"
                )
                written += 1
            batch.clear()

        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record, reason = _labelled(line)
            if record is None:
                rejects.write(
                    json.dumps(
                        {"line": number, "reason": reason, "text": line.rstrip("\n")},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                rejected += 1
                continue
            batch.append(record)
            if len(batch) >= BATCH:
                flush()
        flush()
    if not rejected:
        rejected_path.unlink()
    console.print(
        f"classified {written:,} replies into {out}"
        + (f"; {rejected:,} lines rejected, see {rejected_path}" if rejected else "")
    )


def _print_scores(evaluation, show_confusion: bool) -> None:
    for title, score in (("intent", evaluation.intent), ("objection type", evaluation.objection)):
        table = Table(title=f"{evaluation.name}: {title} (macro-F1 {score.macro_f1:.3f})")
        table.add_column("label")
        for column in ("precision", "recall", "n"):
            table.add_column(column, justify="right")
        for label in score.labels:
            table.add_row(
                label,
                f"{score.precision[label]:.3f}",
                f"{score.recall[label]:.3f}",
                str(score.support[label]),
            )
        console.print(table)
        if show_confusion:
            matrix = Table(title=f"{evaluation.name}: {title} confusion (rows: truth)")
            matrix.add_column("")
            for label in score.labels:
                matrix.add_column(label[:8], justify="right")
            for label, row in zip(score.labels, score.confusion, strict=True):
                matrix.add_row(label, *map(str, row))
            console.print(matrix)
    console.print(
        f"sentiment accuracy {evaluation.sentiment_accuracy:.3f}; questions exact "
        f"{evaluation.questions_exact:.3f}; referral address exact {evaluation.referral_exact:.3f}; "
        f"return date exact {evaluation.return_date_exact:.3f} ({evaluation.size} replies)"
    )


@replies_app.command()
def evaluate(
    part: Annotated[str, typer.Option(help="heldout or dev")] = "heldout",
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the scores here.")
    ] = None,
) -> None:
    """Per-class precision and recall, macro-F1 and the confusion matrix of the analyzer and of
    the rule baseline, on the corpus' held-out part (or its development part)."""
    from dataclasses import asdict

    from detectors.replies import corpus
    from detectors.replies.evaluate import TARGETS
    from detectors.replies.evaluate import evaluate as run

    records = corpus.heldout() if part == "heldout" else corpus.development()
    analyzer, baseline = run(records, name=part)
    _print_scores(baseline, show_confusion=False)
    _print_scores(analyzer, show_confusion=True)
    verdict = "meets" if analyzer.meets_targets() else "misses"
    console.print(f"the analyzer {verdict} the targets {TARGETS}")
    if as_json:
        as_json.write_text(
            json.dumps({"analyzer": asdict(analyzer), "baseline": asdict(baseline)}, indent=2)
        )


@replies_app.command()
def train() -> None:
    """Split the corpus parts (each record by a hash of its id), train the model on the
    development part and write it to detectors/replies/model/."""
    from detectors.replies import corpus, model

    dev, held = corpus.split_corpus()
    corpus.write_jsonl(corpus.DEV_FILE, dev)
    corpus.write_jsonl(corpus.HELDOUT_FILE, held)
    trained = model.train(dev)
    path = model.save(trained)
    console.print(
        f"{len(dev)} development and {len(held)} held-out replies; model {trained.trained_on} written to {path}"
    )


def print_analyze_outcome(outcome) -> None:
    """One line per intent and the run's counts."""
    console.print(
        f"analysed {outcome.analysed:,} replies"
        f" ({outcome.unreadable:,} unreadable, given confidence 0),"
        f" {outcome.removed:,} results of messages no longer there removed"
    )
    for intent, count in outcome.by_intent.items():
        console.print(f"  {intent}: {count:,}")


@replies_app.command()
def analyze(
    everything: Annotated[
        bool, typer.Option("--all", help="Analyse every reply again, not only new or changed ones.")
    ] = False,
    backend: Annotated[str | None, typer.Option(help=BACKEND_HELP)] = None,
) -> None:
    """Analyse the replies the last `cis transform` staged that have no result for this analyzer
    version, and store the results for the next build (cis.reply_analyses)."""
    from cis import db
    from cis.bootstrap import bootstrap
    from cis.jobs.analyze_replies import analyze_replies

    chosen = _backend(backend)
    target = db.resolve_target()
    bootstrap(target)
    print_analyze_outcome(analyze_replies(target, everything=everything, backend=chosen))
    console.print("run `cis transform` to bring the results into the thread marts")


@replies_app.command()
def review(
    below: Annotated[float, typer.Option(help="Show replies with a confidence under this.")] = 0.5,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
) -> None:
    """The replies the analyzer was least sure of that no person has labelled, as of the last
    build; label one with `cis replies relabel KEY --intent ...`."""
    from cis import db
    from cis.jobs.reply_review import count_waiting, waiting_for_review

    target = db.resolve_target()
    rows = waiting_for_review(target, below, limit)
    table = Table("key", "client", "channel", "intent", "objection", "confidence", "new text")
    for row in rows:
        table.add_row(
            row.message_key,
            row.client or "",
            row.channel,
            row.intent or "",
            row.objection_type or "",
            f"{row.confidence:.2f}" if row.confidence is not None else "",
            row.text,
        )
    console.print(table)
    console.print(f"{count_waiting(target, below):,} replies under {below} wait for review")


@replies_app.command()
def relabel(
    key: Annotated[str, typer.Argument(help="The reply's key (first column of `review`).")],
    intent: Annotated[str | None, typer.Option(help="The intent, from the analyzer's set.")] = None,
    sentiment: Annotated[str | None, typer.Option(help="positive, neutral or negative.")] = None,
    objection: Annotated[
        str | None,
        typer.Option(help="none, pricing, timing, no_need, competitor, authority, trust."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Label one reply; the label wins over the analyzer's from the next `cis transform` on."""
    from cis import db
    from cis.jobs.reply_review import UnknownReply
    from cis.jobs.reply_review import relabel as store

    try:
        store(db.resolve_target(), key, intent, sentiment, objection, note)
    except (ValueError, UnknownReply) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    console.print("kept; run `cis transform` to bring it into the thread marts")
