-- The cached and reasoning parts of a GenAI span's tokens, kept with its usage so they
-- count on the server request above it too when that arrives in a later export.
ALTER TABLE otlp_span ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0);
ALTER TABLE otlp_span ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0);
ALTER TABLE otlp_span ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0);
