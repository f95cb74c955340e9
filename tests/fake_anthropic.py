"""A local server that speaks the Anthropic Messages API (``POST /v1/messages``) as the SDK
expects it, for the LLM backend's tests. It answers every request with a call of the tool the
request forces, and misbehaves on markers in the reply text: ``MARK-INVALID`` (an intent outside
the schema), ``MARK-NOTOOL`` (text, no tool call), ``MARK-500`` (a server error)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VALID_READING = {
    "intent": "meeting_request",
    "sentiment": "positive",
    "sentiment_score": 0.8,
    "objection_type": "none",
    "questions": ["Could we talk on Tuesday?", "A question nobody asked?"],
    "referral_email": "someone@not-in-the-reply.example",
    "ooo_return_date": None,
    "confidence": 0.93,
}


class FakeAnthropic:
    """The requests it received (headers and JSON bodies), and its base URL."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def texts(self) -> list[str]:
        """The user turn of every request received."""
        with self.lock:
            return [r["body"]["messages"][0]["content"] for r in self.requests]


def _message(content: list[dict[str, Any]], model: str) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 40},
    }


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length))
            with fake.lock:
                fake.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
            if self.path != "/v1/messages":
                self._send(404, {"type": "error", "error": {"type": "not_found_error"}})
                return
            text = body["messages"][0]["content"]
            tool = body["tool_choice"]["name"]
            if "MARK-500" in text:
                error = {"type": "api_error", "message": "overloaded"}
                self._send(500, {"type": "error", "error": error})
                return
            if "MARK-NOTOOL" in text:
                content = [{"type": "text", "text": "This looks interested to me."}]
            else:
                reading = dict(VALID_READING)
                if "MARK-INVALID" in text:
                    reading["intent"] = "maybe"
                content = [{"type": "tool_use", "id": "toolu_fake", "name": tool, "input": reading}]
            self._send(200, _message(content, body["model"]))

    return Handler


@contextmanager
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """The fake server on a free local port, for the duration of the block."""
    fake = FakeAnthropic()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
