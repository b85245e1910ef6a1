-- Sums saturate at 2^54 (18014398509481984) from now on: the ingest writes every rollup sum,
-- session and user total as `CASE WHEN a + b > 2^54 THEN 2^54 ELSE a + b END`, so no
-- addition leaves 64 bits and a range of up to 402 daily cells still adds up within
-- them. Cells written before could hold more: on PostgreSQL up to the BIGINT limit (one
-- more batch of the bucket then failed with "bigint out of range"), on SQLite a REAL
-- that overflowed (the cards could not decode it), or a negative value that wrapped.
-- They are brought within the bounds here, once.

UPDATE rollup_traffic SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END,
    latency_sum_us = CASE WHEN latency_sum_us < 0 THEN 0 WHEN latency_sum_us > 18014398509481984 THEN 18014398509481984 ELSE latency_sum_us END,
    prompt_tokens = CASE WHEN prompt_tokens < 0 THEN 0 WHEN prompt_tokens > 18014398509481984 THEN 18014398509481984 ELSE prompt_tokens END,
    completion_tokens = CASE WHEN completion_tokens < 0 THEN 0 WHEN completion_tokens > 18014398509481984 THEN 18014398509481984 ELSE completion_tokens END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END,
    sessions_started = CASE WHEN sessions_started < 0 THEN 0 WHEN sessions_started > 18014398509481984 THEN 18014398509481984 ELSE sessions_started END,
    new_users = CASE WHEN new_users < 0 THEN 0 WHEN new_users > 18014398509481984 THEN 18014398509481984 ELSE new_users END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984
   OR latency_sum_us < 0 OR latency_sum_us > 18014398509481984
   OR prompt_tokens < 0 OR prompt_tokens > 18014398509481984
   OR completion_tokens < 0 OR completion_tokens > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984
   OR sessions_started < 0 OR sessions_started > 18014398509481984
   OR new_users < 0 OR new_users > 18014398509481984;

UPDATE rollup_latency SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END
WHERE requests < 0 OR requests > 18014398509481984;

UPDATE rollup_status SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END
WHERE requests < 0 OR requests > 18014398509481984;

UPDATE rollup_model SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END,
    latency_sum_us = CASE WHEN latency_sum_us < 0 THEN 0 WHEN latency_sum_us > 18014398509481984 THEN 18014398509481984 ELSE latency_sum_us END,
    prompt_tokens = CASE WHEN prompt_tokens < 0 THEN 0 WHEN prompt_tokens > 18014398509481984 THEN 18014398509481984 ELSE prompt_tokens END,
    completion_tokens = CASE WHEN completion_tokens < 0 THEN 0 WHEN completion_tokens > 18014398509481984 THEN 18014398509481984 ELSE completion_tokens END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984
   OR latency_sum_us < 0 OR latency_sum_us > 18014398509481984
   OR prompt_tokens < 0 OR prompt_tokens > 18014398509481984
   OR completion_tokens < 0 OR completion_tokens > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984;

UPDATE rollup_country SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984;

UPDATE rollup_user SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END,
    tokens = CASE WHEN tokens < 0 THEN 0 WHEN tokens > 18014398509481984 THEN 18014398509481984 ELSE tokens END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984
   OR tokens < 0 OR tokens > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984;

UPDATE rollup_endpoint SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END,
    latency_sum_us = CASE WHEN latency_sum_us < 0 THEN 0 WHEN latency_sum_us > 18014398509481984 THEN 18014398509481984 ELSE latency_sum_us END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984
   OR latency_sum_us < 0 OR latency_sum_us > 18014398509481984;

UPDATE rollup_service SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END,
    latency_sum_us = CASE WHEN latency_sum_us < 0 THEN 0 WHEN latency_sum_us > 18014398509481984 THEN 18014398509481984 ELSE latency_sum_us END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984
   OR latency_sum_us < 0 OR latency_sum_us > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984;

UPDATE rollup_feedback SET
    ratings = CASE WHEN ratings < 0 THEN 0 WHEN ratings > 18014398509481984 THEN 18014398509481984 ELSE ratings END
WHERE ratings < 0 OR ratings > 18014398509481984;

UPDATE model_usage_stats SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    successes = CASE WHEN successes < 0 THEN 0 WHEN successes > 18014398509481984 THEN 18014398509481984 ELSE successes END,
    failures = CASE WHEN failures < 0 THEN 0 WHEN failures > 18014398509481984 THEN 18014398509481984 ELSE failures END,
    latency_sum_us = CASE WHEN latency_sum_us < 0 THEN 0 WHEN latency_sum_us > 18014398509481984 THEN 18014398509481984 ELSE latency_sum_us END,
    prompt_tokens = CASE WHEN prompt_tokens < 0 THEN 0 WHEN prompt_tokens > 18014398509481984 THEN 18014398509481984 ELSE prompt_tokens END,
    completion_tokens = CASE WHEN completion_tokens < 0 THEN 0 WHEN completion_tokens > 18014398509481984 THEN 18014398509481984 ELSE completion_tokens END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END
WHERE requests < 0 OR requests > 18014398509481984
   OR successes < 0 OR successes > 18014398509481984
   OR failures < 0 OR failures > 18014398509481984
   OR latency_sum_us < 0 OR latency_sum_us > 18014398509481984
   OR prompt_tokens < 0 OR prompt_tokens > 18014398509481984
   OR completion_tokens < 0 OR completion_tokens > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984;

UPDATE user_session SET
    request_count = CASE WHEN request_count < 0 THEN 0 WHEN request_count > 18014398509481984 THEN 18014398509481984 ELSE request_count END,
    error_count = CASE WHEN error_count < 0 THEN 0 WHEN error_count > 18014398509481984 THEN 18014398509481984 ELSE error_count END,
    tokens = CASE WHEN tokens < 0 THEN 0 WHEN tokens > 18014398509481984 THEN 18014398509481984 ELSE tokens END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END
WHERE request_count < 0 OR request_count > 18014398509481984
   OR error_count < 0 OR error_count > 18014398509481984
   OR tokens < 0 OR tokens > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984;

UPDATE tracked_user SET
    requests = CASE WHEN requests < 0 THEN 0 WHEN requests > 18014398509481984 THEN 18014398509481984 ELSE requests END,
    errors = CASE WHEN errors < 0 THEN 0 WHEN errors > 18014398509481984 THEN 18014398509481984 ELSE errors END,
    tokens = CASE WHEN tokens < 0 THEN 0 WHEN tokens > 18014398509481984 THEN 18014398509481984 ELSE tokens END,
    cost_micros = CASE WHEN cost_micros < 0 THEN 0 WHEN cost_micros > 18014398509481984 THEN 18014398509481984 ELSE cost_micros END
WHERE requests < 0 OR requests > 18014398509481984
   OR errors < 0 OR errors > 18014398509481984
   OR tokens < 0 OR tokens > 18014398509481984
   OR cost_micros < 0 OR cost_micros > 18014398509481984;
