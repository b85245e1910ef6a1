//! The parent/child rule of OTLP traces: a GenAI span's usage counts on the request of
//! its nearest SERVER ancestor in the same trace. Spans of a trace arrive in any order
//! and in several exports, so the walk up from a span ends in one of three ways: at a
//! server span, at a root (no server above: never counted), or at a span not seen yet
//! (ask again when more of the trace arrives). A server span whose request is stored
//! needs no stored link of its own: its request id (`<trace>-<span>`) finds it, so the
//! store looks the missing spans of a walk up among the stored server requests.

use std::collections::HashMap;

use crate::store::{NewSpan, SpanRole};

/// A stored span, as the walk needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// The parent's span id; `None` for a root.
    pub parent: Option<String>,
    /// For a server span whose request was stored: that request's id.
    pub server_request: Option<String>,
}

/// Where the walk up from a span ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ancestor<'a> {
    /// The nearest server span above, by its request id.
    Server(&'a str),
    /// There is none: the walk reached a root.
    None,
    /// A span on the way up, by its span id, is not among the spans given.
    Missing(&'a str),
}

/// The nearest server ancestor of a span whose parent is `parent`, among the `spans`
/// of its trace (by span id). A cycle in malformed data ends the walk as `None`.
pub fn nearest_server<'a>(
    parent: Option<&'a str>,
    spans: &'a HashMap<String, Link>,
) -> Ancestor<'a> {
    let mut current = parent;
    // Each step visits a distinct span unless the trace has a cycle.
    for _ in 0..=spans.len() {
        let Some(id) = current else {
            return Ancestor::None;
        };
        let Some(link) = spans.get(id) else {
            return Ancestor::Missing(id);
        };
        if let Some(request) = &link.server_request {
            return Ancestor::Server(request);
        }
        current = link.parent.as_deref();
    }
    Ancestor::None
}

/// Counts each GenAI span of one export on its nearest server ancestor when that is in
/// the export too (the usual case: an SDK exports a trace's spans together), by setting
/// its `counted_on`. The others are settled by the store against what it has kept.
pub fn count_within(spans: &mut [NewSpan]) {
    let mut trees: HashMap<&str, HashMap<String, Link>> = HashMap::new();
    for s in spans.iter() {
        let link = Link {
            parent: s.parent_span_id.clone(),
            server_request: s.request_id.clone().filter(|_| s.role == SpanRole::Server),
        };
        trees
            .entry(s.trace_id.as_str())
            .or_default()
            .insert(s.span_id.clone(), link);
    }
    let counted_on: Vec<Option<String>> = spans
        .iter()
        .map(|s| {
            let tree = trees
                .get(s.trace_id.as_str())
                .filter(|_| s.role == SpanRole::Provider)?;
            match nearest_server(s.parent_span_id.as_deref(), tree) {
                Ancestor::Server(request_id) => Some(request_id.to_string()),
                _ => None,
            }
        })
        .collect();
    for (s, counted_on) in spans.iter_mut().zip(counted_on) {
        s.counted_on = counted_on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(links: &[(&str, Option<&str>, Option<&str>)]) -> HashMap<String, Link> {
        links
            .iter()
            .map(|(id, parent, request)| {
                let link = Link {
                    parent: parent.map(Into::into),
                    server_request: request.map(Into::into),
                };
                (id.to_string(), link)
            })
            .collect()
    }

    #[test]
    fn the_walk_stops_at_the_nearest_server_span() {
        // root server ← internal ← inner server ← (the GenAI span)
        let spans = trace(&[
            ("root", None, Some("req-root")),
            ("mid", Some("root"), None),
            ("inner", Some("mid"), Some("req-inner")),
            ("handler", Some("inner"), None),
        ]);
        assert_eq!(
            nearest_server(Some("handler"), &spans),
            Ancestor::Server("req-inner")
        );
        assert_eq!(
            nearest_server(Some("mid"), &spans),
            Ancestor::Server("req-root")
        );
    }

    #[test]
    fn a_root_without_server_is_final_and_a_gap_is_not() {
        let spans = trace(&[("job", None, None), ("step", Some("job"), None)]);
        assert_eq!(nearest_server(Some("step"), &spans), Ancestor::None);
        assert_eq!(nearest_server(None, &spans), Ancestor::None);
        let spans = trace(&[("step", Some("not-yet-exported"), None)]);
        assert_eq!(
            nearest_server(Some("step"), &spans),
            Ancestor::Missing("not-yet-exported")
        );
    }

    #[test]
    fn a_cycle_ends_the_walk() {
        let spans = trace(&[("a", Some("b"), None), ("b", Some("a"), None)]);
        assert_eq!(nearest_server(Some("a"), &spans), Ancestor::None);
    }
}
