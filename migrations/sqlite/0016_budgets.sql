-- Spending budgets an admin set in the settings page, over those of SIGHTLINE_BUDGET_*:
-- `global` (all served requests), `each_user` (every platform user alike) and `user`
-- (one user, `user_id`, over `each_user`), per UTC day or calendar month, in
-- micro-dollars. A NULL limit of `global` or `each_user` says "no budget", even where
-- the environment sets one. Budget alerts are rows of `alerts` (rule 'budget').
CREATE TABLE budget (
    scope        TEXT   NOT NULL CHECK (scope IN ('global', 'each_user', 'user')),
    user_id      TEXT   NOT NULL DEFAULT '',
    period       TEXT   NOT NULL CHECK (period IN ('daily', 'monthly')),
    limit_micros BIGINT CHECK (limit_micros IS NULL OR limit_micros > 0),
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, user_id, period),
    CHECK ((scope = 'user') = (user_id <> '')),
    CHECK (scope <> 'user' OR limit_micros IS NOT NULL)
) WITHOUT ROWID;
CREATE INDEX alerts_rule_state ON alerts (rule, state);
