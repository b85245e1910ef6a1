-- Everything derived from or stored beside the request log: sessions, the platform's
-- users, feedback, threats, auth events, per-day model stats, the dashboard rollups,
-- and Sightline's own accounts, API keys, web sessions, alerts and model prices.
-- Latency sums are integer microseconds so that every sum is exact and a rollup
-- rebuilt from raw rows equals the one kept at ingest, bit for bit.

-- A visit of one of the platform's users: from the client's `session_id`, or inferred
-- per user with a 30-minute inactivity gap (`inferred`).
CREATE TABLE user_session (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_key   TEXT    NOT NULL UNIQUE,
    user_id       TEXT,
    inferred      BOOLEAN NOT NULL DEFAULT FALSE,
    started_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    request_count BIGINT  NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    error_count   BIGINT  NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    tokens        BIGINT  NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    cost_micros   BIGINT  NOT NULL DEFAULT 0 CHECK (cost_micros >= 0),
    ip            TEXT,
    user_agent    TEXT,
    CHECK (last_seen_at >= started_at)
);
CREATE INDEX user_session_started ON user_session (started_at);
CREATE INDEX user_session_user_started ON user_session (user_id, started_at);

-- The platform's end users as seen in its traffic (not Sightline's dashboard accounts).
CREATE TABLE tracked_user (
    user_id         TEXT   PRIMARY KEY,
    first_seen_at   BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    requests        BIGINT NOT NULL DEFAULT 0,
    errors          BIGINT NOT NULL DEFAULT 0,
    tokens          BIGINT NOT NULL DEFAULT 0,
    cost_micros     BIGINT NOT NULL DEFAULT 0,
    -- The user's latest inferred session, extended while requests keep coming.
    open_session_key TEXT
);
CREATE INDEX tracked_user_first_seen ON tracked_user (first_seen_at);

-- A 1-5 rating of a response; rating the same request again updates it.
-- `user_id` is '' for an anonymous rater, so the uniqueness holds for them too.
CREATE TABLE feedback_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL DEFAULT '',
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    TEXT,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (request_id, user_id)
);
CREATE INDEX feedback_log_created ON feedback_log (created_at);
CREATE INDEX feedback_log_rating ON feedback_log (rating);

-- A security threat. While one is open, a repeat of the same type from the same IP or
-- user (`dedup_key`) bumps `occurrences` and `last_seen_at` instead of adding a row.
CREATE TABLE threat_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    occurrences  BIGINT  NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
    threat_type  TEXT    NOT NULL CHECK (threat_type IN ('rate_limit', 'invalid_auth', 'sql_injection',
                     'xss', 'path_traversal', 'prompt_injection', 'scanner', 'malformed_request',
                     'suspicious_content', 'custom')),
    severity     TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    ip           TEXT,
    user_id      TEXT,
    country      TEXT,
    endpoint     TEXT,
    request_id   TEXT,
    description  TEXT    NOT NULL DEFAULT '',
    dedup_key    TEXT    NOT NULL,
    resolved     BOOLEAN NOT NULL DEFAULT FALSE,
    resolved_at  BIGINT,
    resolved_by  TEXT,
    CHECK (last_seen_at >= created_at)
);
CREATE INDEX threat_log_created ON threat_log (created_at);
CREATE INDEX threat_log_type ON threat_log (threat_type);
CREATE INDEX threat_log_severity ON threat_log (severity);
CREATE INDEX threat_log_resolved ON threat_log (resolved);
CREATE UNIQUE INDEX threat_log_open_dedup ON threat_log (dedup_key) WHERE resolved = FALSE;

-- Per UTC day (epoch ms of midnight) and model.
CREATE TABLE model_usage_stats (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day               BIGINT NOT NULL,
    model_name        TEXT   NOT NULL,
    requests          BIGINT NOT NULL DEFAULT 0,
    successes         BIGINT NOT NULL DEFAULT 0,
    failures          BIGINT NOT NULL DEFAULT 0,
    latency_sum_us    BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_micros       BIGINT NOT NULL DEFAULT 0,
    UNIQUE (day, model_name)
);
CREATE INDEX model_usage_stats_model_day ON model_usage_stats (model_name, day);

CREATE TABLE auth_event (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at BIGINT  NOT NULL,
    event_type TEXT    NOT NULL CHECK (event_type IN ('signup', 'login', 'logout', 'login_failed',
                   'token_refresh', 'password_reset')),
    user_id    TEXT,
    ip         TEXT,
    user_agent TEXT,
    success    BOOLEAN NOT NULL,
    error      TEXT,
    metadata   TEXT
);
CREATE INDEX auth_event_created ON auth_event (created_at);
CREATE INDEX auth_event_user_created ON auth_event (user_id, created_at);
CREATE INDEX auth_event_ip_created ON auth_event (ip, created_at);

-- Dashboard rollups of the platform's served requests (kind 'api'). Every table is
-- kept at two grains, `bucket_ms` = 3 600 000 (hour) and 86 400 000 (UTC day), so a
-- card reads one row per bucket (and per model, country, ...) whatever the range.
CREATE TABLE rollup_traffic (
    bucket_ms         BIGINT NOT NULL,
    bucket_start      BIGINT NOT NULL,
    requests          BIGINT NOT NULL DEFAULT 0,
    errors            BIGINT NOT NULL DEFAULT 0,
    latency_sum_us    BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_micros       BIGINT NOT NULL DEFAULT 0,
    sessions_started  BIGINT NOT NULL DEFAULT 0,
    new_users         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start)
);

-- Latency histogram: `bin` of a log-scale histogram with 2% relative error.
CREATE TABLE rollup_latency (
    bucket_ms    BIGINT  NOT NULL,
    bucket_start BIGINT  NOT NULL,
    bin          INTEGER NOT NULL,
    requests     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, bin)
);

CREATE TABLE rollup_status (
    bucket_ms    BIGINT  NOT NULL,
    bucket_start BIGINT  NOT NULL,
    status_code  INTEGER NOT NULL,
    requests     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, status_code)
);

-- `model_name` '' stands for requests without a model.
CREATE TABLE rollup_model (
    bucket_ms         BIGINT NOT NULL,
    bucket_start      BIGINT NOT NULL,
    model_name        TEXT   NOT NULL,
    requests          BIGINT NOT NULL DEFAULT 0,
    errors            BIGINT NOT NULL DEFAULT 0,
    latency_sum_us    BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_micros       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, model_name)
);

-- `country` '' stands for an unknown country.
CREATE TABLE rollup_country (
    bucket_ms    BIGINT NOT NULL,
    bucket_start BIGINT NOT NULL,
    country      TEXT   NOT NULL,
    requests     BIGINT NOT NULL DEFAULT 0,
    errors       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, country)
);

-- Per user and bucket: active users and top users by cost. Anonymous requests are not here.
CREATE TABLE rollup_user (
    bucket_ms    BIGINT NOT NULL,
    bucket_start BIGINT NOT NULL,
    user_id      TEXT   NOT NULL,
    requests     BIGINT NOT NULL DEFAULT 0,
    errors       BIGINT NOT NULL DEFAULT 0,
    tokens       BIGINT NOT NULL DEFAULT 0,
    cost_micros  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, user_id)
);

CREATE TABLE rollup_endpoint (
    bucket_ms      BIGINT NOT NULL,
    bucket_start   BIGINT NOT NULL,
    endpoint       TEXT   NOT NULL,
    requests       BIGINT NOT NULL DEFAULT 0,
    errors         BIGINT NOT NULL DEFAULT 0,
    latency_sum_us BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, endpoint)
);

-- Calls the platform made to providers (kind 'external'), per provider (`service`, '' if unnamed).
CREATE TABLE rollup_service (
    bucket_ms      BIGINT NOT NULL,
    bucket_start   BIGINT NOT NULL,
    service        TEXT   NOT NULL,
    requests       BIGINT NOT NULL DEFAULT 0,
    errors         BIGINT NOT NULL DEFAULT 0,
    latency_sum_us BIGINT NOT NULL DEFAULT 0,
    cost_micros    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, service)
);

-- Ratings per bucket of the feedback's creation; a changed rating moves its count.
CREATE TABLE rollup_feedback (
    bucket_ms    BIGINT  NOT NULL,
    bucket_start BIGINT  NOT NULL,
    rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    ratings      BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, rating)
);

-- Sightline's dashboard accounts.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,
    role          TEXT   NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT
);

-- Keys for the ingest and read APIs: only a SHA-256 hash is kept; the key is shown once.
CREATE TABLE api_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT   NOT NULL,
    prefix       TEXT   NOT NULL UNIQUE,
    key_hash     TEXT   NOT NULL UNIQUE,
    scopes       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- Web sessions of the dashboard (tower-sessions records), shared by every replica.
CREATE TABLE tower_sessions (
    id          TEXT   PRIMARY KEY,
    data        BYTEA  NOT NULL,
    expiry_date BIGINT NOT NULL
);
CREATE INDEX tower_sessions_expiry ON tower_sessions (expiry_date);

-- Anomaly alerts: one firing row per `alert_key` at a time, resolved when it clears.
CREATE TABLE alerts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_key   TEXT   NOT NULL,
    rule        TEXT   NOT NULL,
    severity    TEXT   NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    state       TEXT   NOT NULL CHECK (state IN ('firing', 'resolved')),
    title       TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    endpoint    TEXT,
    value       DOUBLE PRECISION,
    threshold   DOUBLE PRECISION,
    fired_at    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    notified_at BIGINT
);
CREATE UNIQUE INDEX alerts_firing_key ON alerts (alert_key) WHERE state = 'firing';
CREATE INDEX alerts_fired ON alerts (fired_at);

-- Prices per million tokens, in micro-dollars; overrides the built-in price table.
CREATE TABLE model_price (
    model_name                 TEXT   PRIMARY KEY,
    prompt_micros_per_mtok     BIGINT NOT NULL CHECK (prompt_micros_per_mtok >= 0),
    completion_micros_per_mtok BIGINT NOT NULL CHECK (completion_micros_per_mtok >= 0),
    updated_at                 BIGINT NOT NULL
);

-- Settings changed in the UI (retention, ...), as text.
CREATE TABLE settings (
    key        TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
