-- The spans OTLP trace exports brought in, as far as the parent/child rule needs them:
-- a GenAI span's model, tokens and cost also count on the request of its nearest SERVER
-- ancestor in the same trace, whichever of the two arrives first, across exports. Each
-- span is kept once (trace_id, span_id); a provider span's `counted_on` is set exactly
-- once: to the request id it was added to, or to '' when its trace has no server
-- ancestor above it. Ids are lowercase hex, instants epoch milliseconds.
CREATE TABLE otlp_span (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trace_id          TEXT    NOT NULL,
    span_id           TEXT    NOT NULL,
    parent_span_id    TEXT,
    role              TEXT    NOT NULL CHECK (role IN ('server', 'provider', 'other')),
    request_id        TEXT,
    model_name        TEXT,
    prompt_tokens     BIGINT  NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens BIGINT  NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cost_micros       BIGINT  NOT NULL DEFAULT 0 CHECK (cost_micros >= 0),
    counted_on        TEXT,
    created_at        BIGINT  NOT NULL,
    UNIQUE (trace_id, span_id)
);
-- Provider spans still waiting for their server ancestor, by trace: each export looks
-- up the pending spans of the traces it touches.
CREATE INDEX otlp_span_pending ON otlp_span (trace_id)
    WHERE role = 'provider' AND counted_on IS NULL;
-- Retention prunes old spans with the raw requests.
CREATE INDEX otlp_span_created ON otlp_span (created_at);
