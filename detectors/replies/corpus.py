"""The labelled corpus (docs/replies-labelling.md): its records and its one-time split into a
development part (rules are tuned and the model trained on it) and a held-out part (scored once
per change, never trained on)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"
PARTS_DIR = CORPUS_DIR / "parts"
DEV_FILE = CORPUS_DIR / "dev.jsonl"
HELDOUT_FILE = CORPUS_DIR / "heldout.jsonl"
HELDOUT_SHARE = 0.4


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _bucket(record_id: str) -> float:
    digest = hashlib.sha256(f"cis-replies-split:{record_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF


def split_corpus(parts_dir: Path = PARTS_DIR) -> tuple[list[dict], list[dict]]:
    """Dev and held-out records. Each record is placed by a hash of its id alone (held out when
    it falls in the first 40%), so the split is the same on every machine and adding records
    never moves one that is already placed."""
    records = [r for path in sorted(parts_dir.glob("*.jsonl")) for r in read_jsonl(path)]
    dev = [r for r in records if _bucket(r["id"]) >= HELDOUT_SHARE]
    held = [r for r in records if _bucket(r["id"]) < HELDOUT_SHARE]
    return sorted(dev, key=lambda r: r["id"]), sorted(held, key=lambda r: r["id"])


def development() -> list[dict]:
    return read_jsonl(DEV_FILE)


def heldout() -> list[dict]:
    return read_jsonl(HELDOUT_FILE)
