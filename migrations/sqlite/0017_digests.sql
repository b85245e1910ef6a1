-- The digests sent to the webhooks (daily and weekly summaries), one row per kind and
-- period: the replica whose INSERT adds the row sends the digest, the others' INSERT
-- conflicts and they skip it, so each period's digest is sent once, however many
-- replicas run.
CREATE TABLE digest (
    kind         TEXT   NOT NULL CHECK (kind IN ('daily', 'weekly')),
    period_start BIGINT NOT NULL,
    period_end   BIGINT NOT NULL CHECK (period_end > period_start),
    claimed_at   BIGINT NOT NULL,
    PRIMARY KEY (kind, period_start)
) WITHOUT ROWID;
