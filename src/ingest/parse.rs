//! Reading an ingest body into events: a JSON object of lists, or NDJSON with one
//! event a line. Syntax errors fail the whole body (with their position); an event
//! that is valid JSON but not a known event is rejected alone, with its index.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The four kinds of event the ingest API takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Request,
    AuthEvent,
    Feedback,
    Threat,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Request => "request",
            EventKind::AuthEvent => "auth_event",
            EventKind::Feedback => "feedback",
            EventKind::Threat => "threat",
        }
    }

    fn parse(s: &str) -> Option<EventKind> {
        match s {
            "request" => Some(EventKind::Request),
            "auth_event" => Some(EventKind::AuthEvent),
            "feedback" => Some(EventKind::Feedback),
            "threat" => Some(EventKind::Threat),
            _ => None,
        }
    }
}

/// How the body is encoded, from its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Ndjson,
}

impl BodyFormat {
    /// `None` for a media type the API does not take. A missing type is taken as JSON.
    pub fn from_content_type(content_type: Option<&str>) -> Option<BodyFormat> {
        let media = content_type
            .unwrap_or("application/json")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/json" | "" => Some(BodyFormat::Json),
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines" => Some(BodyFormat::Ndjson),
            _ => None,
        }
    }
}

/// One event of a body: its index (in its list, or its line for NDJSON) and either
/// its kind and JSON text (decoded later, once, into its wire type), or why it is not
/// an event.
#[derive(Debug)]
pub struct RawEvent<'a> {
    pub index: usize,
    pub event: Result<(EventKind, &'a str), (Option<EventKind>, String)>,
}

/// Why a whole body was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Not UTF-8, not JSON, or not the expected shape; the message says where.
    Malformed(String),
}

#[derive(Deserialize)]
struct JsonBody<'a> {
    #[serde(default, borrow)]
    requests: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    auth_events: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    feedback: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    threats: Vec<&'a RawValue>,
}

/// The `type` of an NDJSON line; its other fields are skipped here.
#[derive(Deserialize)]
struct LineType<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

pub fn parse(format: BodyFormat, body: &[u8]) -> Result<Vec<RawEvent<'_>>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        BodyError::Malformed(format!(
            "body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    match format {
        BodyFormat::Json => parse_json(text),
        BodyFormat::Ndjson => parse_ndjson(text),
    }
}

fn parse_json(text: &str) -> Result<Vec<RawEvent<'_>>, BodyError> {
    let body: JsonBody<'_> = serde_json::from_str(text).map_err(|e| {
        let what = if e.is_data() {
            "body must be a JSON object with the lists requests, auth_events, feedback and threats"
        } else {
            "malformed JSON"
        };
        BodyError::Malformed(format!(
            "{what}: {} (line {}, column {})",
            strip_position(&e),
            e.line(),
            e.column()
        ))
    })?;
    let lists = [
        (EventKind::Request, body.requests),
        (EventKind::AuthEvent, body.auth_events),
        (EventKind::Feedback, body.feedback),
        (EventKind::Threat, body.threats),
    ];
    Ok(lists
        .into_iter()
        .flat_map(|(kind, values)| {
            values
                .into_iter()
                .enumerate()
                .map(move |(index, value)| RawEvent {
                    index,
                    event: Ok((kind, value.get())),
                })
        })
        .collect())
}

fn parse_ndjson(text: &str) -> Result<Vec<RawEvent<'_>>, BodyError> {
    let mut events = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |e: serde_json::Error| {
            BodyError::Malformed(format!(
                "malformed NDJSON: {} (line {}, column {})",
                strip_position(&e),
                line_no + 1,
                e.column()
            ))
        };
        // Checks the whole line is JSON, then reads its type.
        serde_json::from_str::<serde::de::IgnoredAny>(line).map_err(malformed)?;
        let kind = serde_json::from_str::<LineType<'_>>(line)
            .ok()
            .and_then(|l| l.kind);
        let event = match kind.as_deref() {
            Some(t) => match EventKind::parse(t) {
                Some(kind) => Ok((kind, line)),
                None => Err((
                    None,
                    format!(
                        "unknown event type `{t}`: use request, auth_event, feedback or threat"
                    ),
                )),
            },
            None => Err((
                None,
                "each line needs a \"type\": request, auth_event, feedback or threat".to_string(),
            )),
        };
        events.push(RawEvent {
            index: line_no,
            event,
        });
    }
    Ok(events)
}

/// serde_json's message without its trailing " at line L column C" (given apart).
pub fn strip_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_keep_their_own_indexes() {
        let body = br#"{"requests":[{"a":1},{"a":2}],"feedback":[{"b":1}]}"#;
        let events = parse(BodyFormat::Json, body).unwrap();
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.index, e.event.as_ref().unwrap().0))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, EventKind::Request),
                (1, EventKind::Request),
                (0, EventKind::Feedback)
            ]
        );
    }

    #[test]
    fn malformed_bodies_say_where() {
        let err = parse(BodyFormat::Json, b"{\"requests\": [\n  {\"a\": }]}").unwrap_err();
        assert_eq!(
            err,
            BodyError::Malformed("malformed JSON: expected value (line 2, column 9)".into())
        );
        let err = parse(BodyFormat::Json, b"[1,2]").unwrap_err();
        assert!(
            matches!(&err, BodyError::Malformed(m) if m.starts_with("body must be a JSON object")),
            "{err:?}"
        );
        let err = parse(BodyFormat::Ndjson, b"{\"type\":\"request\"}\n{oops}\n").unwrap_err();
        assert_eq!(
            err,
            BodyError::Malformed(
                "malformed NDJSON: key must be a string (line 2, column 2)".into()
            )
        );
        let err = parse(BodyFormat::Json, b"{\"requests\":[\"\xff\"]}").unwrap_err();
        assert_eq!(
            err,
            BodyError::Malformed("body is not valid UTF-8 (at byte 14)".into())
        );
    }

    #[test]
    fn ndjson_lines_name_their_type() {
        let body =
            b"{\"type\":\"request\"}\n\n{\"type\":\"nope\"}\n{\"x\":1}\n{\"type\":\"threat\"}";
        let events = parse(BodyFormat::Ndjson, body).unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].event.as_ref().unwrap().0, EventKind::Request);
        assert_eq!(events[1].index, 2);
        assert!(
            events[1]
                .event
                .as_ref()
                .unwrap_err()
                .1
                .contains("unknown event type `nope`")
        );
        assert!(events[2].event.is_err());
        assert_eq!(events[3].index, 4);
    }

    #[test]
    fn content_types_choose_the_format() {
        assert_eq!(BodyFormat::from_content_type(None), Some(BodyFormat::Json));
        assert_eq!(
            BodyFormat::from_content_type(Some("application/json; charset=utf-8")),
            Some(BodyFormat::Json)
        );
        assert_eq!(
            BodyFormat::from_content_type(Some("application/x-ndjson")),
            Some(BodyFormat::Ndjson)
        );
        assert_eq!(BodyFormat::from_content_type(Some("text/csv")), None);
    }
}
