//! Reading an ingest body into events: a JSON object of lists, or NDJSON with one
//! event a line. Syntax errors fail the whole body (with their position); an event
//! that is valid JSON but not a known event is rejected alone, with its index. Events
//! are counted as they are read: the first one over the limit ends the body, so what
//! is built from a body never grows past the limit, however many lines it has.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
    /// More than `limit` events: reading stopped at the first one over it.
    TooManyEvents { limit: usize },
}

/// The lists of the JSON form, in this order, and their kinds.
const LISTS: [(&str, EventKind); 4] = [
    ("requests", EventKind::Request),
    ("auth_events", EventKind::AuthEvent),
    ("feedback", EventKind::Feedback),
    ("threats", EventKind::Threat),
];

/// Events read so far from one body, against its limit.
struct EventCount {
    limit: usize,
    seen: Cell<usize>,
    over: Cell<bool>,
}

impl EventCount {
    fn new(limit: usize) -> EventCount {
        EventCount {
            limit,
            seen: Cell::new(0),
            over: Cell::new(false),
        }
    }

    /// Counts one more event; an error once that is one too many.
    fn one_more<E: de::Error>(&self) -> Result<(), E> {
        self.seen.set(self.seen.get() + 1);
        if self.seen.get() > self.limit {
            self.over.set(true);
            return Err(E::custom("too many events"));
        }
        Ok(())
    }
}

/// The JSON form: an object with any of the four lists (other keys are ignored), each
/// element kept as raw JSON and counted as it is read.
struct JsonBody<'c>(&'c EventCount);

impl<'de> DeserializeSeed<'de> for JsonBody<'_> {
    type Value = [Vec<&'de RawValue>; 4];

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for JsonBody<'_> {
    type Value = [Vec<&'de RawValue>; 4];

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with the lists requests, auth_events, feedback and threats")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut lists: [Option<Vec<&'de RawValue>>; 4] = Default::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let Some(i) = LISTS.iter().position(|(name, _)| *name == key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if lists[i].is_some() {
                return Err(de::Error::duplicate_field(LISTS[i].0));
            }
            lists[i] = Some(map.next_value_seed(EventList(self.0))?);
        }
        Ok(lists.map(Option::unwrap_or_default))
    }
}

/// One list of the JSON form.
struct EventList<'c>(&'c EventCount);

impl<'de> DeserializeSeed<'de> for EventList<'_> {
    type Value = Vec<&'de RawValue>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventList<'_> {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::new();
        while let Some(event) = seq.next_element::<&'de RawValue>()? {
            self.0.one_more()?;
            events.push(event);
        }
        Ok(events)
    }
}

/// The `type` of an NDJSON line; its other fields are skipped here.
#[derive(Deserialize)]
struct LineType<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// The events of `body`, at most `limit` of them (more is [`BodyError::TooManyEvents`]).
pub fn parse(
    format: BodyFormat,
    body: &[u8],
    limit: usize,
) -> Result<Vec<RawEvent<'_>>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        BodyError::Malformed(format!(
            "body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let count = EventCount::new(limit);
    match format {
        BodyFormat::Json => parse_json(text, &count),
        BodyFormat::Ndjson => parse_ndjson(text, &count),
    }
}

fn parse_json<'a>(text: &'a str, count: &EventCount) -> Result<Vec<RawEvent<'a>>, BodyError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = JsonBody(count)
        .deserialize(&mut de)
        .and_then(|lists| de.end().map(|()| lists));
    let lists = parsed.map_err(|e| {
        if count.over.get() {
            return BodyError::TooManyEvents { limit: count.limit };
        }
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
    Ok(LISTS
        .iter()
        .zip(lists)
        .flat_map(|(&(_, kind), values)| {
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

fn parse_ndjson<'a>(text: &'a str, count: &EventCount) -> Result<Vec<RawEvent<'a>>, BodyError> {
    let mut events = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        count
            .one_more::<serde_json::Error>()
            .map_err(|_| BodyError::TooManyEvents { limit: count.limit })?;
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
        let events = parse(BodyFormat::Json, body, 100).unwrap();
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
        let err = parse(BodyFormat::Json, b"{\"requests\": [\n  {\"a\": }]}", 100).unwrap_err();
        assert_eq!(
            err,
            BodyError::Malformed("malformed JSON: expected value (line 2, column 9)".into())
        );
        let err = parse(BodyFormat::Json, b"[1,2]", 100).unwrap_err();
        assert!(
            matches!(&err, BodyError::Malformed(m) if m.starts_with("body must be a JSON object")),
            "{err:?}"
        );
        let err = parse(BodyFormat::Ndjson, b"{\"type\":\"request\"}\n{oops}\n", 100).unwrap_err();
        assert_eq!(
            err,
            BodyError::Malformed(
                "malformed NDJSON: key must be a string (line 2, column 2)".into()
            )
        );
        let err = parse(BodyFormat::Json, b"{\"requests\":[\"\xff\"]}", 100).unwrap_err();
        assert_eq!(
            err,
            BodyError::Malformed("body is not valid UTF-8 (at byte 14)".into())
        );
    }

    #[test]
    fn ndjson_lines_name_their_type() {
        let body =
            b"{\"type\":\"request\"}\n\n{\"type\":\"nope\"}\n{\"x\":1}\n{\"type\":\"threat\"}";
        let events = parse(BodyFormat::Ndjson, body, 100).unwrap();
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
    fn reading_stops_at_the_first_event_over_the_limit() {
        let too_many = Err(BodyError::TooManyEvents { limit: 3 });
        // Whatever follows the fourth event is not read.
        let ndjson = b"{\"type\":\"request\"}\n\n{}\n{}\n{}\n{oops";
        assert_eq!(
            parse(BodyFormat::Ndjson, ndjson, 3).map(|e| e.len()),
            too_many
        );
        let ndjson = b"{\"type\":\"request\"}\n\n{}\n{}\n";
        assert_eq!(parse(BodyFormat::Ndjson, ndjson, 3).map(|e| e.len()), Ok(3));
        let json = br#"{"requests":[{},{}],"other":[1,2,3],"threats":[{},{}],"feedback":[oops"#;
        assert_eq!(parse(BodyFormat::Json, json, 3).map(|e| e.len()), too_many);
        let json = br#"{"requests":[{},{}],"other":[1,2,3],"threats":[{}]}"#;
        assert_eq!(parse(BodyFormat::Json, json, 3).map(|e| e.len()), Ok(3));
        let twice = parse(BodyFormat::Json, br#"{"requests":[],"requests":[]}"#, 3).unwrap_err();
        assert!(
            matches!(&twice, BodyError::Malformed(m) if m.starts_with(
                "body must be a JSON object with the lists requests, auth_events, feedback and \
                 threats: duplicate field `requests`"
            )),
            "{twice:?}"
        );
        assert!(parse(BodyFormat::Json, br#"{"requests":[]} x"#, 3).is_err());
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
