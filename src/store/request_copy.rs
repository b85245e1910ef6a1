//! `request_log` rows in PostgreSQL's binary `COPY` format, the fastest way into the
//! table: no SQL to parse and no parameter to bind per row.

use super::NewRequest;
use super::requests::REQUEST_INSERT_COLUMNS;

const FIELDS: i16 = super::requests::REQUEST_INSERT_COLUMN_COUNT as i16;

/// `COPY table (REQUEST_INSERT_COLUMNS) FROM STDIN (FORMAT binary)`.
pub fn request_copy_statement(table: &str) -> String {
    format!("COPY {table} ({REQUEST_INSERT_COLUMNS}) FROM STDIN (FORMAT binary)")
}

/// `rows`, each with its error group (`groups`, same order, or none at all), as one
/// binary `COPY` stream of [`REQUEST_INSERT_COLUMNS`]: header, one tuple per row, trailer.
pub fn request_copy_binary(rows: &[&NewRequest], groups: &[Option<String>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(19 + rows.len() * 400 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    for (i, r) in rows.iter().enumerate() {
        let mut t = Tuple(&mut out);
        t.0.extend_from_slice(&FIELDS.to_be_bytes());
        t.text(Some(&r.request_id));
        t.bigint(Some(r.created_at));
        t.text(Some(r.kind.as_str()));
        t.text(r.service.as_deref());
        t.text(Some(&r.endpoint));
        t.text(Some(&r.method));
        t.field(&r.status_code.to_be_bytes());
        t.field(&r.latency_ms.to_be_bytes());
        match r.ttft_ms {
            Some(v) => t.field(&v.to_be_bytes()),
            None => t.null(),
        }
        t.text(r.model_name.as_deref());
        t.bigint(Some(r.prompt_tokens));
        t.bigint(Some(r.completion_tokens));
        t.bigint(Some(r.cost_micros.micros()));
        t.text(r.finish_reason.as_deref());
        t.text(r.user_id.as_deref());
        t.text(r.session_id.as_deref());
        t.field(&[u8::from(r.is_authenticated)]);
        t.text(r.ip.as_deref());
        t.text(r.country.as_deref());
        t.text(r.user_agent.as_deref());
        t.bigint(r.request_bytes);
        t.bigint(r.response_bytes);
        t.text(r.error.as_deref());
        t.text(r.metadata.as_deref());
        t.bigint(Some(r.cache_read_tokens));
        t.bigint(Some(r.cache_write_tokens));
        t.bigint(Some(r.reasoning_tokens));
        t.text(groups.get(i).and_then(|g| g.as_deref()));
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

/// Appends one tuple's fields: each a 4-byte length (-1 for NULL) and its bytes.
struct Tuple<'a>(&'a mut Vec<u8>);

impl Tuple<'_> {
    fn field(&mut self, bytes: &[u8]) {
        // Every field here is far below 2 GiB (strings are truncated at validation).
        self.0
            .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.0.extend_from_slice(bytes);
    }

    fn null(&mut self) {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn text(&mut self, v: Option<&str>) {
        match v {
            Some(s) => self.field(s.as_bytes()),
            None => self.null(),
        }
    }

    fn bigint(&mut self, v: Option<i64>) {
        match v {
            Some(n) => self.field(&n.to_be_bytes()),
            None => self.null(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_stream_is_header_and_trailer() {
        let bytes = request_copy_binary(&[], &[]);
        assert_eq!(&bytes[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(bytes.len(), 11 + 8 + 2);
        assert_eq!(&bytes[19..], &(-1i16).to_be_bytes());
    }
}
