-- What each of the platform's users caused at each provider: the provider calls
-- (kind 'external') that carry the user's id (from the tracker, the gateway's
-- Sightline-User-Id or the request body's user, or an OTLP GenAI span's user.id),
-- summed per user and provider (`service`, '' if unnamed). Kept at ingest in the same
-- transaction as the raw rows and rebuilt with the rollups, so the users view shows a
-- user's provider cost beside the cost of their own requests without reading raw rows.
CREATE TABLE user_provider_cost (
    user_id     TEXT   NOT NULL,
    service     TEXT   NOT NULL,
    calls       BIGINT NOT NULL DEFAULT 0,
    errors      BIGINT NOT NULL DEFAULT 0,
    tokens      BIGINT NOT NULL DEFAULT 0,
    cost_micros BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, service)
);

-- The calls stored before this migration (sums saturate at 2^54, as every rollup's).
INSERT INTO user_provider_cost (user_id, service, calls, errors, tokens, cost_micros)
SELECT s.user_id, s.service, s.calls, s.errors,
       CASE WHEN s.tokens > 18014398509481984 THEN 18014398509481984 ELSE s.tokens END,
       CASE WHEN s.cost_micros > 18014398509481984 THEN 18014398509481984 ELSE s.cost_micros END
FROM (
    SELECT user_id, COALESCE(service, '') AS service,
           CAST(COUNT(*) AS BIGINT) AS calls,
           CAST(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors,
           CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT) AS tokens,
           CAST(SUM(cost_micros) AS BIGINT) AS cost_micros
    FROM request_log
    WHERE kind = 'external' AND user_id IS NOT NULL
    GROUP BY user_id, COALESCE(service, '')
) s;
