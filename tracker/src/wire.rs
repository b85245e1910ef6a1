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

/// Defines a closed set of names used on the wire and in the database, with
/// `as_str`, `parse` and `ALL`, serialised as the name itself.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses a name; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// What kind of security threat was seen.
    ThreatType {
        RateLimit = "rate_limit",
        InvalidAuth = "invalid_auth",
        SqlInjection = "sql_injection",
        Xss = "xss",
        PathTraversal = "path_traversal",
        PromptInjection = "prompt_injection",
        Scanner = "scanner",
        MalformedRequest = "malformed_request",
        SuspiciousContent = "suspicious_content",
        Custom = "custom",
    }
}

wire_enum! {
    /// How serious a threat or an alert is; ordered from `Low` to `Critical`.
    Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

wire_enum! {
    /// What happened in an authentication event of the tracked platform.
    AuthEventType {
        Signup = "signup",
        Login = "login",
        Logout = "logout",
        LoginFailed = "login_failed",
        TokenRefresh = "token_refresh",
        PasswordReset = "password_reset",
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

    #[test]
    fn enums_round_trip_and_reject_unknown_names() {
        for t in ThreatType::ALL {
            assert_eq!(ThreatType::parse(t.as_str()), Some(*t));
            assert_eq!(serde_json::to_string(t).unwrap(), format!("\"{t}\""));
        }
        assert_eq!(ThreatType::ALL.len(), 10);
        assert_eq!(
            serde_json::from_str::<Severity>("\"critical\"").unwrap(),
            Severity::Critical
        );
        assert!(serde_json::from_str::<Severity>("\"urgent\"").is_err());
        assert!(Severity::Low < Severity::Critical);
        assert_eq!(
            AuthEventType::parse("login_failed"),
            Some(AuthEventType::LoginFailed)
        );
    }
}
