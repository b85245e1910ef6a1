-- The audit trail: one row per admin action (API keys, accounts, prices, retention,
-- threats resolved or reopened, Sightline's own sign-ins and sign-outs) with who, when,
-- from where and what. Rows are never changed: an UPDATE is refused by the database
-- itself. Retention deletes them by age, as auth events.
CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    actor_ip   TEXT,
    action     TEXT   NOT NULL,
    target     TEXT,
    detail     TEXT
);
CREATE INDEX audit_log_created ON audit_log (created_at);
CREATE INDEX audit_log_action_created ON audit_log (action, created_at);

CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log rows cannot be changed';
END
$$;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
