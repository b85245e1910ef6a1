-- The p50, p95 and p99 of each bucket's latency histogram, as the bins that hold them
-- (nearest rank), kept beside `rollup_latency` at ingest so the latency chart reads one
-- row per bucket instead of every bin of every bucket.
CREATE TABLE rollup_latency_quantiles (
    bucket_ms    BIGINT  NOT NULL,
    bucket_start BIGINT  NOT NULL,
    p50_bin      INTEGER NOT NULL,
    p95_bin      INTEGER NOT NULL,
    p99_bin      INTEGER NOT NULL,
    PRIMARY KEY (bucket_ms, bucket_start)
);

-- Buckets written before this table existed.
INSERT INTO rollup_latency_quantiles (bucket_ms, bucket_start, p50_bin, p95_bin, p99_bin)
SELECT bucket_ms, bucket_start,
       MIN(CASE WHEN cum >= (total + 1) / 2 THEN bin END),
       MIN(CASE WHEN cum >= (total * 19 + 19) / 20 THEN bin END),
       MIN(CASE WHEN cum >= (total * 99 + 99) / 100 THEN bin END)
FROM (
    SELECT bucket_ms, bucket_start, bin,
           CAST(SUM(requests) OVER (PARTITION BY bucket_ms, bucket_start ORDER BY bin
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS cum,
           CAST(SUM(requests) OVER (PARTITION BY bucket_ms, bucket_start) AS BIGINT) AS total
    FROM rollup_latency
) c
WHERE total > 0
GROUP BY bucket_ms, bucket_start;
