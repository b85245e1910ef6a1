-- Cached and reasoning tokens. `prompt_tokens` counts every input token, cached ones
-- included, and `completion_tokens` every output token, reasoning included; these
-- columns say which part of them was read from or written to the provider's prompt
-- cache, or spent on reasoning, so each part is priced at its own rate and no token
-- is counted twice. Kept wherever tokens are summed.
ALTER TABLE request_log ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0);
ALTER TABLE request_log ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0);
ALTER TABLE request_log ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0);

ALTER TABLE rollup_traffic ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;

ALTER TABLE rollup_model ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_model ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_model ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;

ALTER TABLE rollup_user ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_user ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_user ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;

ALTER TABLE model_usage_stats ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_usage_stats ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_usage_stats ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;

ALTER TABLE user_session ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_session ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_session ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;

ALTER TABLE tracked_user ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tracked_user ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tracked_user ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;

-- The model's own rates for those tokens, micro-dollars per million; NULL: cache reads
-- and writes cost as prompt tokens, reasoning as completion tokens.
ALTER TABLE model_price ADD COLUMN cache_read_micros_per_mtok BIGINT CHECK (cache_read_micros_per_mtok >= 0);
ALTER TABLE model_price ADD COLUMN cache_write_micros_per_mtok BIGINT CHECK (cache_write_micros_per_mtok >= 0);
ALTER TABLE model_price ADD COLUMN reasoning_micros_per_mtok BIGINT CHECK (reasoning_micros_per_mtok >= 0);
