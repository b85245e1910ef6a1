-- The requests of one client-given session, newest first: the session drill-down
-- (`/requests?session=…&since=…&until=…`, and its CSV export) filters request_log on
-- session_id = ? and a created_at span, ordered by created_at DESC, id DESC. With the
-- session first and the time second, the index finds exactly the session's rows, in
-- order, instead of scanning every request of the span.
CREATE INDEX request_log_session_created ON request_log (session_id, created_at);
