-- The security view's per-bucket counts of the tracked platform's auth events (source
-- 'platform'; Sightline's own sign-ins are not counted): per bucket (hour and UTC day,
-- as every rollup) and event type, the events and those of them that failed
-- (`success` false). Kept at ingest in the same transaction as the raw rows, rebuilt
-- with the other rollups, and kept by retention like them.
CREATE TABLE rollup_auth (
    bucket_ms    BIGINT NOT NULL,
    bucket_start BIGINT NOT NULL,
    event_type   TEXT   NOT NULL,
    events       BIGINT NOT NULL DEFAULT 0,
    failures     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_ms, bucket_start, event_type)
);

-- The events stored before this migration.
INSERT INTO rollup_auth (bucket_ms, bucket_start, event_type, events, failures)
SELECT g.bucket_ms, (e.created_at / g.bucket_ms) * g.bucket_ms, e.event_type,
       COUNT(*), SUM(CASE WHEN e.success THEN 0 ELSE 1 END)
FROM auth_event e CROSS JOIN (SELECT CAST(3600000 AS BIGINT) AS bucket_ms UNION ALL SELECT 86400000) g
WHERE e.source = 'platform'
GROUP BY g.bucket_ms, (e.created_at / g.bucket_ms) * g.bucket_ms, e.event_type;
