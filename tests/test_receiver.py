"""The webhook receiver: auth checks, refusals, landing lines, rotation, recovery, SIGKILL."""

from __future__ import annotations

import asyncio
import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from ingestion.landing import LandingLine, read_jsonl
from ingestion.receiver.app import create_app
from ingestion.receiver.auth import (
    check_smartlead,
    check_token,
    check_twilio,
    smartlead_signature,
    twilio_signature,
)
from ingestion.receiver.settings import VENDORS, ReceiverSettings, load_settings
from ingestion.receiver.writer import LandingWriter, recover_folder

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = Path(os.environ.get("CIS_CONTRACTS", ROOT.parent / "shared" / "contracts"))
SMARTLEAD_SECRET = "b8e1f4a2-6c3d-4e9b-8a7f-2d5c1e0b9a64"  # the contract examples' secret_key
SECRETS = {
    "smartlead": SMARTLEAD_SECRET,
    "salesforge": "sf-token-1",
    "heyreach": "hr-token-1",
    "twilio": "twilio-auth-token",
}
PUBLIC = "https://hooks.example.com"
JSON = {"content-type": "application/json"}
FORM = "application/x-www-form-urlencoded"


def _contract(name: str) -> list[dict]:
    path = CONTRACTS / name
    if not path.is_file():
        pytest.skip(f"contract examples not found at {path}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _lines(landing: Path, kind: str) -> list[LandingLine]:
    """Every line of the published files of one kind; fails on any rejection."""
    found = []
    for path in sorted((landing / kind).glob("*.jsonl")):
        for item in read_jsonl(path, landing, kind):
            assert isinstance(item, LandingLine), item
            found.append(item)
    return found


def _files(landing: Path) -> list[Path]:
    return [p for p in landing.rglob("*") if p.is_file()] if landing.exists() else []


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def client(landing: Path):
    settings = ReceiverSettings(landing, secrets=dict(SECRETS), public_base_url=PUBLIC)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _stats(client: TestClient) -> dict:
    return client.get("/stats").json()


def _twilio_post(client: TestClient, fields: dict[str, str], token: str = SECRETS["twilio"]):
    signature = twilio_signature(token, f"{PUBLIC}/webhooks/twilio", fields.items())
    headers = {"content-type": FORM, "x-twilio-signature": signature}
    return client.post("/webhooks/twilio", content=urlencode(fields), headers=headers)


# -- auth: pure functions ----------------------------------------------------------------------


def test_smartlead_secret_and_signature() -> None:
    raw = json.dumps({"event_type": "EMAIL_SENT", "secret_key": "s3"}).encode()
    body = json.loads(raw)
    good = smartlead_signature("s3", raw)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert check_smartlead(body, raw, None, "s3") is None
    assert check_smartlead(body, raw, good, "s3") is None
    assert check_smartlead(body, raw, good.upper().replace("SHA256=", "sha256="), "s3") is None
    tampered = raw.replace(b"SENT", b"OPEN")
    assert check_smartlead(json.loads(tampered), tampered, good, "s3").code == "bad_signature"
    assert check_smartlead(body, raw, None, "other").code == "wrong_secret"
    assert check_smartlead({**body, "secret_key": 7}, raw, None, "s3").code == "wrong_secret"
    # No secret_key (the newer dialect): only a valid signature authenticates it.
    bare = b'{"event": "EMAIL_SENT"}'
    assert check_smartlead({"event": "EMAIL_SENT"}, bare, None, "s3").code == "missing_secret"
    assert (
        check_smartlead({"event": "EMAIL_SENT"}, bare, smartlead_signature("s3", bare), "s3")
        is None
    )
    wrong = smartlead_signature("other", bare)
    assert check_smartlead({"event": "EMAIL_SENT"}, bare, wrong, "s3").code == "bad_signature"


# Twilio's documented example (webhook security page; Caller +14158675310) and the one in
# twilio-node's test suite (Caller +14158675309): auth token 12345, this URL and these fields.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ],
)
def test_twilio_signature_matches_published_examples(caller: str, expected: str) -> None:
    fields = {
        "To": "+18005551212",
        "From": caller,
        "Digits": "1234",
        "CallSid": "CA1234567890ABCDE",
        "Caller": caller,
    }
    assert twilio_signature("12345", TWILIO_URL, fields.items()) == expected
    assert check_twilio(expected, "12345", TWILIO_URL, fields.items()) is None
    assert check_twilio(expected, "54321", TWILIO_URL, fields.items()).code == "bad_signature"
    tampered = {**fields, "Digits": "9999"}
    assert check_twilio(expected, "12345", TWILIO_URL, tampered.items()).code == "bad_signature"
    other_url = TWILIO_URL.replace("https", "http")
    assert check_twilio(expected, "12345", other_url, fields.items()).code == "bad_signature"
    assert check_twilio(None, "12345", TWILIO_URL, fields.items()).code == "missing_signature"


def test_token_in_path_or_header() -> None:
    assert check_token("t0k", None, "t0k") is None
    assert check_token(None, "t0k", "t0k") is None
    assert check_token("t0k", "t0k", "t0k") is None
    assert check_token("nope", None, "t0k").code == "wrong_token"
    assert check_token(None, "nope", "t0k").code == "wrong_token"
    assert check_token("t0k", "nope", "t0k").code == "wrong_token"
    assert check_token(None, None, "t0k").code == "missing_token"


def test_secrets_come_from_dlt_providers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for vendor in VENDORS.values():
        monkeypatch.delenv(vendor.secret_field.replace(".", "__").upper(), raising=False)
    monkeypatch.setenv("SOURCES__SMARTLEAD__WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("SOURCES__TWILIO__AUTH_TOKEN", "twilio-env")
    monkeypatch.setenv("RECEIVER__PUBLIC_BASE_URL", "https://hooks.example.org/")
    settings = load_settings(tmp_path)
    assert settings.secret("smartlead") == "from-env"
    assert settings.secret("twilio") == "twilio-env"
    assert settings.secret("salesforge") is None
    assert settings.public_base_url == "https://hooks.example.org"
    assert "from-env" not in repr(settings)


# -- refusals over HTTP ------------------------------------------------------------------------

SIGNED = b'{"event_type": "EMAIL_SENT", "secret_key": "%s"}' % SMARTLEAD_SECRET.encode()
REFUSALS = {
    "tampered signature": (
        "/webhooks/smartlead",
        SIGNED.replace(b"SENT", b"OPEN"),
        {**JSON, "x-smartlead-signature": smartlead_signature(SMARTLEAD_SECRET, SIGNED)},
        401,
        "bad_signature",
    ),
    "wrong secret": ("/webhooks/smartlead", b'{"secret_key": "guess"}', JSON, 401, "wrong_secret"),
    "no secret": ("/webhooks/smartlead", b'{"event": "EMAIL_SENT"}', JSON, 401, "missing_secret"),
    "oversized body": (
        "/webhooks/heyreach/hr-token-1",
        b'{"a": "' + b"x" * (2 << 20) + b'"}',
        JSON,
        413,
        "too_large",
    ),
    "not JSON": ("/webhooks/salesforge/sf-token-1", b"{nope", JSON, 400, "not_json"),
    "NaN": ("/webhooks/salesforge/sf-token-1", b'{"a": NaN}', JSON, 400, "not_json"),
    "not UTF-8": ("/webhooks/salesforge/sf-token-1", b'{"a": "\xff"}', JSON, 400, "not_json"),
    "JSON array": ("/webhooks/salesforge/sf-token-1", b"[1, 2]", JSON, 400, "not_object"),
    "wrong content type": (
        "/webhooks/heyreach/hr-token-1",
        b'{"a": 1}',
        {"content-type": "text/plain"},
        415,
        "wrong_content_type",
    ),
    "form to a JSON vendor": (
        "/webhooks/heyreach/hr-token-1",
        b"a=1",
        {"content-type": FORM},
        415,
        "wrong_content_type",
    ),
    "empty body": ("/webhooks/heyreach/hr-token-1", b"", JSON, 400, "empty_body"),
    "wrong token in path": ("/webhooks/salesforge/guess", b'{"a": 1}', JSON, 401, "wrong_token"),
    "wrong token header": (
        "/webhooks/heyreach",
        b'{"a": 1}',
        {**JSON, "x-cis-token": "guess"},
        401,
        "wrong_token",
    ),
    "no token": ("/webhooks/heyreach", b'{"a": 1}', JSON, 401, "missing_token"),
    "reserved key": (
        "/webhooks/heyreach/hr-token-1",
        b'{"_cis_receipt": {}}',
        JSON,
        400,
        "reserved_key",
    ),
    "twilio unsigned": (
        "/webhooks/twilio",
        b"Body=hi",
        {"content-type": FORM},
        401,
        "missing_signature",
    ),
    "twilio bad signature": (
        "/webhooks/twilio",
        b"Body=hi",
        {"content-type": FORM, "x-twilio-signature": "AAAA"},
        401,
        "bad_signature",
    ),
    "twilio JSON": ("/webhooks/twilio", b'{"Body": "hi"}', JSON, 415, "wrong_content_type"),
    "twilio not a form": ("/webhooks/twilio", b"%ff=%fe", {"content-type": FORM}, 400, "not_form"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_refusals_are_4xx_counted_and_write_nothing(
    case: str, client: TestClient, landing: Path
) -> None:
    path, body, headers, status, code = REFUSALS[case]
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.text.strip() and len(response.text) < 100
    for secret in SECRETS.values():
        assert secret not in response.text
    vendor = path.split("/")[2]
    assert _stats(client)["vendors"][vendor]["rejected"] == {code: 1}
    assert _stats(client)["accepted"] == 0
    assert _files(landing) == []


def test_twilio_signed_but_repeated_field_is_refused(client: TestClient, landing: Path) -> None:
    body = "Body=a&Body=b"
    pairs = [("Body", "a"), ("Body", "b")]
    signature = twilio_signature(SECRETS["twilio"], f"{PUBLIC}/webhooks/twilio", pairs)
    headers = {"content-type": FORM, "x-twilio-signature": signature}
    response = client.post("/webhooks/twilio", content=body, headers=headers)
    assert response.status_code == 400
    assert _stats(client)["vendors"]["twilio"]["rejected"] == {"repeated_field": 1}
    assert _files(landing) == []


def test_a_vendor_without_a_secret_refuses_everything(landing: Path) -> None:
    settings = ReceiverSettings(landing, secrets={"smartlead": SMARTLEAD_SECRET})
    with TestClient(create_app(settings)) as client:
        for vendor in ("salesforge", "heyreach"):
            response = client.post(f"/webhooks/{vendor}/", content=b'{"a": 1}', headers=JSON)
            assert response.status_code in (401, 404, 503)
            response = client.post(
                f"/webhooks/{vendor}/anything", content=b'{"a": 1}', headers=JSON
            )
            assert response.status_code == 503 and "no " in response.text
        response = client.post(
            "/webhooks/twilio", content=b"Body=hi", headers={"content-type": FORM}
        )
        assert response.status_code == 503
        assert _stats(client)["vendors"]["twilio"]["rejected"] == {"not_configured": 1}
    assert _files(landing) == []


# -- accepted deliveries -----------------------------------------------------------------------


def test_unknown_event_types_and_missing_types_are_kept(client: TestClient, landing: Path) -> None:
    novel = {"event_type": "EMAIL_TELEPATHY", "secret_key": SMARTLEAD_SECRET, "x": 1}
    response = client.post("/webhooks/smartlead", content=json.dumps(novel), headers=JSON)
    assert response.status_code == 200
    untyped = {"correlation_id": "c-1", "lead": {"id": "9"}}
    headers = {**JSON, "x-cis-token": SECRETS["heyreach"]}
    assert client.post("/webhooks/heyreach", json=untyped, headers=headers).status_code == 200
    client.__exit__(None, None, None)  # shutdown publishes the open files
    (smartlead,) = _lines(landing, "smartlead/webhooks")
    assert (
        smartlead.payload["event_type"] == "EMAIL_TELEPATHY"
        and "secret_key" not in smartlead.payload
    )
    (heyreach,) = _lines(landing, "linkedin/events")
    assert heyreach.payload["lead"] == {"id": "9"}
    assert heyreach.payload["_cis_receipt"]["verified"] == ["x-cis-token"]


def test_contract_examples_land_with_receipt_and_without_secret(
    client: TestClient, landing: Path
) -> None:
    sent: dict[str, list[dict]] = {}
    smartlead = _contract("smartlead__webhook.jsonl")
    for n, body in enumerate(smartlead):
        raw = json.dumps(body).encode()
        headers = {**JSON, "x-request-id": f"req-{n}", "x-webhook-level": "campaign"}
        if n % 2 or "secret_key" not in body:
            headers["x-smartlead-signature"] = smartlead_signature(SMARTLEAD_SECRET, raw)
        headers["authorization"] = "Bearer not-to-be-stored"
        response = client.post("/webhooks/smartlead", content=raw, headers=headers)
        assert response.status_code == 200, response.text
    sent["smartlead/webhooks"] = [
        {k: v for k, v in b.items() if k != "secret_key"} for b in smartlead
    ]
    sent["salesforge/webhooks"] = _contract("salesforge__webhook.jsonl")
    for body in sent["salesforge/webhooks"]:
        response = client.post("/webhooks/salesforge/sf-token-1", json=body)
        assert response.status_code == 200, response.text
    sent["linkedin/events"] = _contract("heyreach__webhook.jsonl")
    for body in sent["linkedin/events"]:
        headers = {"x-cis-token": SECRETS["heyreach"]}
        assert client.post("/webhooks/heyreach", json=body, headers=headers).status_code == 200
    sent["sms/events"] = _contract("twilio__sms.jsonl")
    for fields in sent["sms/events"]:
        response = _twilio_post(client, fields)
        assert response.status_code == 200 and "<Response>" in response.text
    stats = _stats(client)
    assert stats["accepted"] == sum(len(v) for v in sent.values()) and stats["rejected"] == 0
    client.__exit__(None, None, None)

    assert not list(landing.rglob(".*.open"))
    vendor_of = {v.kind: v.name for v in VENDORS.values()}
    for kind, bodies in sent.items():
        landed = _lines(landing, kind)
        assert [line.payload | {} for line in landed] and len(landed) == len(bodies)
        for line, body in zip(landed, bodies, strict=True):
            payload = dict(line.payload)
            receipt = payload.pop("_cis_receipt")
            assert payload == body
            assert "secret_key" not in payload
            assert receipt["vendor"] == vendor_of[kind]
            stamp = receipt["received_at"]
            assert stamp.endswith("Z") and len(stamp) == len("2026-12-01T01:55:15.249646Z")
            assert set(receipt["headers"]) <= {
                "x-request-id",
                "x-webhook-level",
                "content-type",
                "user-agent",
            }
    first = _lines(landing, "smartlead/webhooks")[1].payload["_cis_receipt"]
    assert first["request_id"] == "req-1" and first["headers"]["x-webhook-level"] == "campaign"
    assert first["verified"] == ["secret_key", "x-smartlead-signature"]
    for path in _files(landing):
        text = path.read_text()
        assert SMARTLEAD_SECRET not in text and "not-to-be-stored" not in text
        assert "sf-token-1" not in text and "hr-token-1" not in text


# -- writer: rotation and recovery -------------------------------------------------------------


def test_rotation_by_size_and_by_age(tmp_path: Path) -> None:
    folder = tmp_path / "linkedin" / "events"

    async def scenario() -> None:
        writer = LandingWriter(folder, rotate_bytes=100, rotate_seconds=0.3)
        await writer.start()
        await asyncio.gather(
            *(writer.append(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * 60)) for i in range(5))
        )
        await writer.append(b'{"n": 5}\n')
        await writer.append(b'{"n": 6}\n')
        assert len(list(folder.glob(".*.jsonl.open"))) == 1  # the last, small file is still open
        published = len(list(folder.glob("*.jsonl")))
        await asyncio.sleep(0.6)  # no new line: the age alone publishes it
        assert not list(folder.glob(".*.open"))
        assert len(list(folder.glob("*.jsonl"))) == published + 1
        await writer.close()

    asyncio.run(scenario())
    names = sorted(p.name for p in folder.iterdir())
    assert all(not n.startswith(".") and n.endswith(".jsonl") for n in names)
    numbers = [line.payload["n"] for line in _lines(tmp_path, "linkedin/events")]
    assert sorted(numbers) == list(range(7))


def test_recovery_keeps_complete_lines_and_moves_the_fragment(tmp_path: Path) -> None:
    folder = tmp_path / "sms" / "events"
    folder.mkdir(parents=True)
    orphan = folder / ".20261201T015500Z-4242-000003.jsonl.open"
    orphan.write_bytes(b'{"MessageSid": "SM1"}\n{"MessageSid": "SM2"}\n{"MessageSid": "SM')
    held = folder / ".20261201T015501Z-4243-000000.jsonl.open"
    held.write_bytes(b'{"MessageSid": "SM9"}\n')
    with held.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # a live writer's file is left alone
        (done,) = recover_folder(folder)
    assert held.exists()
    assert done.lines_kept == 2 and done.fragment_bytes == len(b'{"MessageSid": "SM')
    assert done.published == folder / "20261201T015500Z-4242-000003.jsonl"
    assert done.fragment.read_bytes() == b'{"MessageSid": "SM'
    assert not orphan.exists()
    sids = [line.payload["MessageSid"] for line in _lines(tmp_path, "sms/events")]
    assert sids == ["SM1", "SM2"]
    recover_folder(folder)  # now unlocked: published as well
    assert not list(folder.glob(".*"))


def test_recovery_moves_an_unreadable_middle_line(tmp_path: Path) -> None:
    folder = tmp_path / "sms" / "events"
    folder.mkdir(parents=True)
    orphan = folder / ".20261201T015500Z-1-000000.jsonl.open"
    orphan.write_bytes(b'{"a": 1}\n\x00\x00\x00\n{"a": 2}\n')
    (done,) = recover_folder(folder)
    assert done.lines_kept == 2 and done.fragment.read_bytes() == b"\x00\x00\x00\n"
    assert [line.payload["a"] for line in _lines(tmp_path, "sms/events")] == [1, 2]


# -- the real server, killed mid-stream --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(landing: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        SOURCES__SMARTLEAD__WEBHOOK_SECRET=SMARTLEAD_SECRET,
        SOURCES__SALESFORGE__WEBHOOK_TOKEN=SECRETS["salesforge"],
        SOURCES__HEYREACH__WEBHOOK_TOKEN=SECRETS["heyreach"],
        SOURCES__TWILIO__AUTH_TOKEN=SECRETS["twilio"],
    )
    command = [sys.executable, "-m", "cis.cli", "serve", "--port", str(port), "--dir", str(landing)]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the receiver did not start")


def _delivery(vendor: str, key: str, port: int) -> tuple[str, bytes, dict[str, str]]:
    if vendor == "smartlead":
        body = json.dumps(
            {"event_type": "EMAIL_OPEN", "stats_id": key, "secret_key": SMARTLEAD_SECRET}
        ).encode()
        headers = {**JSON, "x-smartlead-signature": smartlead_signature(SMARTLEAD_SECRET, body)}
        return "/webhooks/smartlead", body, headers
    if vendor == "salesforge":
        body = json.dumps({"webhookInfo": {"type": "email_opened"}, "key": key}).encode()
        return "/webhooks/salesforge/sf-token-1", body, JSON
    fields = {"MessageSid": key, "MessageStatus": "delivered", "Body": "é & ü =?"}
    url = f"http://127.0.0.1:{port}/webhooks/twilio"  # no public URL set: the one called
    signature = twilio_signature(SECRETS["twilio"], url, fields.items())
    headers = {"content-type": FORM, "x-twilio-signature": signature}
    return "/webhooks/twilio", urlencode(fields).encode(), headers


def _key_of(kind: str, payload: dict) -> str:
    return payload.get("stats_id") or payload.get("key") or payload["MessageSid"]


KINDS = {
    "smartlead": "smartlead/webhooks",
    "salesforge": "salesforge/webhooks",
    "twilio": "sms/events",
}


def test_sigkill_loses_no_acknowledged_delivery(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    port = _free_port()
    server = _start_server(landing, port)
    acked: dict[str, list[str]] = {v: [] for v in KINDS}
    sent = [0]
    stop = threading.Event()

    def client(index: int) -> None:
        vendor = list(KINDS)[index % len(KINDS)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = 0
        while not stop.is_set():
            key = f"c{index}-{n}"
            n += 1
            path, body, headers = _delivery(vendor, key, port)
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return  # the server is gone: this delivery was never acknowledged
            sent[0] += 1
            if response.status == 200:
                acked[vendor].append(key)
            else:
                raise AssertionError(f"{vendor}: {response.status} {response.read()!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(60)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while sum(map(len, acked.values())) < 1500 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.send_signal(signal.SIGKILL)  # mid-stream: 60 clients are posting
    server.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    total = sum(map(len, acked.values()))
    assert total >= 500, f"only {total} acknowledged before the kill"
    assert list(landing.rglob(".*.jsonl.open")), "the kill should leave open files behind"

    server = _start_server(landing, port)  # recovery runs at start-up
    assert not list(landing.rglob(".*.jsonl.open")), "recovery finishes every orphan"
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    assert not list(landing.rglob(".*.jsonl.open")), "a graceful stop publishes the open files"
    assert "recovered .20" in server.stderr.read().decode()

    for vendor, kind in KINDS.items():
        keys = [_key_of(kind, line.payload) for line in _lines(landing, kind)]  # no rejection
        assert len(keys) == len(set(keys)), f"{vendor}: a delivery landed twice"
        missing = set(acked[vendor]) - set(keys)
        assert not missing, f"{vendor}: {len(missing)} acknowledged deliveries lost"
        for line in _lines(landing, kind):
            assert "_cis_receipt" in line.payload and "secret_key" not in line.payload
    for fragment in landing.rglob("*.fragment"):
        text = fragment.read_text(errors="replace")
        assert not any(f'"{key}"' in text for keys in acked.values() for key in keys)
