//! The ingest wire format: the JSON that `POST /api/v1/ingest` accepts.

use serde::{Deserialize, Serialize};

/// Whether a request was served by the tracked platform or made by it to a provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// A request the platform served to one of its clients.
    #[default]
    Api,
    /// A call the platform made to an external provider (OpenAI, Gemini, BrightData…).
    External,
}

impl RequestKind {
    /// The name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Api => "api",
            RequestKind::External => "external",
        }
    }

    /// Parses the stored name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api" => Some(RequestKind::Api),
            "external" => Some(RequestKind::External),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_round_trips_through_its_wire_name() {
        for kind in [RequestKind::Api, RequestKind::External] {
            assert_eq!(RequestKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(RequestKind::parse("API"), None);
    }
}
