-- Every request the platform served (kind 'api') or made to a provider (kind 'external').
-- Instants are epoch milliseconds (UTC), money is micro-dollars: sums are exact and the
-- time-bucket SQL is the same on SQLite and PostgreSQL.
CREATE TABLE request_log (
    id                INTEGER PRIMARY KEY,
    request_id        TEXT    NOT NULL UNIQUE,
    created_at        BIGINT  NOT NULL,
    kind              TEXT    NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'external')),
    service           TEXT,
    endpoint          TEXT    NOT NULL CHECK (length(endpoint) <= 255),
    method            TEXT    NOT NULL,
    status_code       INTEGER NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    latency_ms        REAL    NOT NULL CHECK (latency_ms >= 0),
    ttft_ms           REAL             CHECK (ttft_ms >= 0),
    model_name        TEXT,
    prompt_tokens     BIGINT  NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens BIGINT  NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cost_micros       BIGINT  NOT NULL DEFAULT 0 CHECK (cost_micros >= 0),
    finish_reason     TEXT,
    user_id           TEXT,
    session_id        TEXT,
    is_authenticated  BOOLEAN NOT NULL DEFAULT FALSE,
    ip                TEXT,
    country           TEXT             CHECK (country IS NULL OR length(country) = 2),
    user_agent        TEXT,
    request_bytes     BIGINT,
    response_bytes    BIGINT,
    error             TEXT,
    metadata          TEXT
);

CREATE INDEX request_log_created_at ON request_log (created_at);
CREATE INDEX request_log_user_created ON request_log (user_id, created_at);
CREATE INDEX request_log_model_created ON request_log (model_name, created_at);
CREATE INDEX request_log_status_created ON request_log (status_code, created_at);
CREATE INDEX request_log_endpoint_created ON request_log (endpoint, created_at);
