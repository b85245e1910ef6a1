-- Sightline's own sign-ins are auth events too (they feed login throttling and the
-- `invalid_auth` threat), kept apart from the tracked platform's by `source`.
ALTER TABLE auth_event ADD COLUMN source TEXT NOT NULL DEFAULT 'platform'
    CHECK (source IN ('platform', 'sightline'));
CREATE INDEX auth_event_source_created ON auth_event (source, created_at);
