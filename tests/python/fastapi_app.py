"""A small FastAPI service with stock OpenTelemetry instrumentation, pointed at
Sightline by environment variables alone (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME). Its chat handler calls an OpenAI-compatible
server through the official `openai` SDK, traced by opentelemetry-instrumentation-openai-v2.

    python fastapi_app.py

The mock of OpenAI's Chat Completions API (POST /v1/chat/completions, as OpenAI documents
it) runs in this process on a loopback port. The script serves the app with uvicorn, sends
it a fixed set of requests, then shuts down (which flushes the spans) and prints one line
per request it made: `METHOD PATH STATUS`. Exits 1 if an export failed.
"""

import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import uvicorn
from fastapi import FastAPI, Header, HTTPException
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

# Usage the mock reports for every completion.
PROMPT_TOKENS, COMPLETION_TOKENS = 120, 30


class MockOpenAI(BaseHTTPRequestHandler):
    """POST /v1/chat/completions, answering a `chat.completion` object."""

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length))
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        body = json.dumps({
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request["model"] + "-2024-07-18",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the mock."},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": COMPLETION_TOKENS,
                "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            },
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class CheckedExporter(OTLPSpanExporter):
    """The SDK's exporter, remembering whether any export failed."""

    failed = False

    def export(self, spans):
        result = super().export(spans)
        if result != SpanExportResult.SUCCESS:
            CheckedExporter.failed = True
        return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    mock = ThreadingHTTPServer(("127.0.0.1", 0), MockOpenAI)
    threading.Thread(target=mock.serve_forever, daemon=True).start()

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(CheckedExporter()))
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument()

    client = openai.OpenAI(
        api_key="sk-test", base_url=f"http://127.0.0.1:{mock.server_port}/v1"
    )
    app = FastAPI()

    @app.post("/chat/{conversation}")
    def chat(conversation: str, payload: dict, x_user: str = Header()):
        trace.get_current_span().set_attribute("user.id", x_user)
        answer = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": payload["text"]}],
        )
        return {"conversation": conversation, "answer": answer.choices[0].message.content}

    @app.get("/items/{item}")
    def item(item: str):
        raise HTTPException(status_code=404, detail=f"no item {item}")

    FastAPIInstrumentor.instrument_app(app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.05)

    calls = [
        ("POST", "/chat/c1", "alice", {"text": "What is OTLP?"}),
        ("POST", "/chat/c2", "bob", {"text": "Summarise this."}),
        ("POST", "/chat/c1", "alice", {"text": "And gzip?"}),
        ("GET", "/items/42", "carol", None),
    ]
    for method, path, user, payload in calls:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", data=data, method=method,
            headers={"content-type": "application/json", "x-user": user},
        )
        try:
            with urllib.request.urlopen(request) as reply:
                status = reply.status
        except urllib.error.HTTPError as e:
            status = e.code
        print(method, path, status, flush=True)

    # Stop serving first: a server span ends only after its response went out.
    server.should_exit = True
    serving.join()
    provider.shutdown()
    mock.shutdown()
    if CheckedExporter.failed:
        print("an OTLP export failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
