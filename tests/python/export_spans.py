"""Exports a known set of traces to Sightline with the OpenTelemetry Python SDK's own
OTLP/HTTP exporter (protobuf or JSON), configured by the standard environment variables
(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS).

    python export_spans.py proto|json TRACES START_MS ORDER FIRST_TRACE

Each trace is a SERVER span (an HTTP request the platform served, by user-<i>) with a
GenAI CLIENT span beneath it (an OpenAI chat call). Ids are deterministic (a custom
IdGenerator), so running the script twice exports the very same spans. The spans are
sent in one export (`together`), or in two: every GenAI span first and the server spans
in a later export (`children-first`), or the other way round (`parents-first`), or the
server spans and then every span again (`parents-then-together`), or the GenAI spans and
then every span again (`children-then-together`). Exits 1 if the exporter
reports a failed export.
"""

import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

class CountingIds(IdGenerator):
    """Trace i gets trace id FIRST_TRACE+1+i; spans are numbered in creation order from
    FIRST_TRACE/16+1 (0x1000 gives traces 0x1001… and spans 0x101…)."""

    def __init__(self, first_trace):
        self.trace = first_trace
        self.span = first_trace // 16

    def generate_trace_id(self):
        self.trace += 1
        return self.trace

    def generate_span_id(self):
        self.span += 1
        return self.span


def exporter(protocol):
    if protocol == "proto":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter()


def main():
    protocol, traces, start_ms, order = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    first_trace = int(sys.argv[5], 0)
    provider = TracerProvider(
        id_generator=CountingIds(first_trace),
        resource=Resource.create({"service.name": "chat-api"}),
    )
    finished = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    tracer = provider.get_tracer("sightline-test")
    t = start_ms * 1_000_000
    for i in range(traces):
        begin = t + i * 60_000_000_000  # a minute apart
        server = tracer.start_span(
            "POST /v1/chat/{conversation}",
            kind=trace.SpanKind.SERVER,
            start_time=begin,
            attributes={
                "http.request.method": "POST",
                "http.route": "/v1/chat/{conversation}",
                "url.path": f"/v1/chat/c{i}",
                "http.response.status_code": 200 if i % 2 == 0 else 502,
                "client.address": "203.0.113.9",
                "user_agent.original": "pytest-client/1.0",
                "user.id": f"user-{i}",
            },
        )
        ctx = trace.set_span_in_context(server)
        call = tracer.start_span(
            "chat gpt-4o",
            kind=trace.SpanKind.CLIENT,
            context=ctx,
            start_time=begin + 5_000_000,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 500,
                "gen_ai.response.finish_reasons": ["stop"],
            },
        )
        call.end(end_time=begin + 805_000_000)  # 800 ms
        server.end(end_time=begin + 1_250_000_000)  # 1250 ms
    spans = finished.get_finished_spans()
    servers = [s for s in spans if s.kind == trace.SpanKind.SERVER]
    calls = [s for s in spans if s.kind != trace.SpanKind.SERVER]
    batches = {
        "together": [list(spans)],
        "children-first": [calls, servers],
        "parents-first": [servers, calls],
        # The server spans, then the whole traces again (a retry that also has the rest).
        "parents-then-together": [servers, list(spans)],
        # The calls, then the whole traces again: the calls are repeats by then.
        "children-then-together": [calls, list(spans)],
    }[order]
    out = exporter(protocol)
    for batch in batches:
        if out.export(batch) != SpanExportResult.SUCCESS:
            print(f"export of {len(batch)} spans failed", file=sys.stderr)
            sys.exit(1)
    out.shutdown()
    provider.shutdown()


if __name__ == "__main__":
    main()
