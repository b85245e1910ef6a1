-- Per-endpoint and per-provider figures for the endpoints and providers views: the
-- tokens and cost of each endpoint's requests and of each provider's calls, and a
-- latency histogram per endpoint and per provider (the bins of `rollup_latency`, 2%
-- relative error), so their p50/p95/p99 read from rollups as the dashboard's do.

ALTER TABLE rollup_endpoint ADD COLUMN prompt_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_endpoint ADD COLUMN completion_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_endpoint ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;

ALTER TABLE rollup_service ADD COLUMN prompt_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_service ADD COLUMN completion_tokens BIGINT NOT NULL DEFAULT 0;

CREATE TABLE rollup_endpoint_latency (
    bucket_ms    BIGINT  NOT NULL,
    bucket_start BIGINT  NOT NULL,
    endpoint     TEXT    NOT NULL,
    bin          INTEGER NOT NULL,
    requests     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, endpoint, bin)
);

CREATE TABLE rollup_service_latency (
    bucket_ms    BIGINT  NOT NULL,
    bucket_start BIGINT  NOT NULL,
    service      TEXT    NOT NULL,
    bin          INTEGER NOT NULL,
    requests     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, service, bin)
);

-- Rows written before: their sums from the raw requests still kept (a bucket whose raw
-- rows retention already pruned keeps 0 tokens and cost).
UPDATE rollup_endpoint SET
    prompt_tokens = CASE WHEN s.prompt_tokens > 18014398509481984 THEN 18014398509481984 ELSE s.prompt_tokens END,
    completion_tokens = CASE WHEN s.completion_tokens > 18014398509481984 THEN 18014398509481984 ELSE s.completion_tokens END,
    cost_micros = CASE WHEN s.cost_micros > 18014398509481984 THEN 18014398509481984 ELSE s.cost_micros END
FROM (
    SELECT g.ms AS bucket_ms, (r.created_at / g.ms) * g.ms AS bucket_start, r.endpoint,
           CAST(SUM(r.prompt_tokens) AS BIGINT) AS prompt_tokens,
           CAST(SUM(r.completion_tokens) AS BIGINT) AS completion_tokens,
           CAST(SUM(r.cost_micros) AS BIGINT) AS cost_micros
    FROM request_log r CROSS JOIN (SELECT 3600000 AS ms UNION ALL SELECT 86400000) g
    WHERE r.kind = 'api'
    GROUP BY g.ms, (r.created_at / g.ms) * g.ms, r.endpoint
) s
WHERE rollup_endpoint.bucket_ms = s.bucket_ms AND rollup_endpoint.bucket_start = s.bucket_start
  AND rollup_endpoint.endpoint = s.endpoint;

UPDATE rollup_service SET
    prompt_tokens = CASE WHEN s.prompt_tokens > 18014398509481984 THEN 18014398509481984 ELSE s.prompt_tokens END,
    completion_tokens = CASE WHEN s.completion_tokens > 18014398509481984 THEN 18014398509481984 ELSE s.completion_tokens END
FROM (
    SELECT g.ms AS bucket_ms, (r.created_at / g.ms) * g.ms AS bucket_start,
           COALESCE(r.service, '') AS service,
           CAST(SUM(r.prompt_tokens) AS BIGINT) AS prompt_tokens,
           CAST(SUM(r.completion_tokens) AS BIGINT) AS completion_tokens
    FROM request_log r CROSS JOIN (SELECT 3600000 AS ms UNION ALL SELECT 86400000) g
    WHERE r.kind = 'external'
    GROUP BY g.ms, (r.created_at / g.ms) * g.ms, COALESCE(r.service, '')
) s
WHERE rollup_service.bucket_ms = s.bucket_ms AND rollup_service.bucket_start = s.bucket_start
  AND rollup_service.service = s.service;

-- The histograms of the raw requests still kept are filled once, right after this
-- migration, by the server (`Store::migrate`): a bin is `ceil(ln(ms) / ln(γ))`, which
-- SQLite cannot compute without its math functions, and the same Rust code as at
-- ingest gives exactly the bins a rebuild would.
INSERT INTO settings (key, value, updated_at) VALUES ('backfill_dimension_latency', 'pending', 0);
