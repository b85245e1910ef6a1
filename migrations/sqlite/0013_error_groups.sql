-- The errors view: the platform's failed requests (kind 'api' with an error message, or
-- a status of 400 or more) grouped by their message with the variable parts taken out
-- (numbers, ids, quoted values, addresses, tokens; see src/rollup/error_message.rs).
-- Each request keeps its group's fingerprint (16 hex digits, or 'other' once its UTC
-- day holds 100 groups), so the requests explorer finds a group's requests through an
-- index.
ALTER TABLE request_log ADD COLUMN error_group TEXT;
CREATE INDEX request_log_error_group_created ON request_log (error_group, created_at);

-- Per bucket (hour and UTC day, as every rollup), group, endpoint and status: the
-- requests and the first and last of them. Kept at ingest in the batch's transaction,
-- rebuilt with the other rollups, pruned as the per-user rollups are.
CREATE TABLE rollup_error (
    bucket_ms     BIGINT  NOT NULL,
    bucket_start  BIGINT  NOT NULL,
    fingerprint   TEXT    NOT NULL,
    endpoint      TEXT    NOT NULL,
    status_code   INTEGER NOT NULL,
    requests      BIGINT  NOT NULL DEFAULT 0,
    first_seen_at BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    PRIMARY KEY (bucket_ms, bucket_start, fingerprint, endpoint, status_code)
) WITHOUT ROWID;
CREATE INDEX rollup_error_fingerprint ON rollup_error (fingerprint);

-- One row per group: its pattern (at most 200 characters), the first message seen (at
-- most 500) and the span of its requests. Pruned once no rollup row names it.
CREATE TABLE error_group (
    fingerprint   TEXT   PRIMARY KEY,
    pattern       TEXT   NOT NULL,
    example       TEXT   NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX error_group_last_seen ON error_group (last_seen_at);

-- The requests stored before this migration get their groups once, right after it, from
-- the server (`Store::migrate`): the grouping is Rust code (regular expressions), the
-- same that runs at ingest.
INSERT INTO settings (key, value, updated_at) VALUES ('backfill_error_groups', 'pending', 0);
