//! Server functions: the only way pages talk to the server. Each one is thin: it finds
//! the [`Backend`] the server provided and asks it; the server implements the backend
//! on top of its store, so no SQL lives in the UI crate. Every server function but
//! `login` needs a session, and those under `/api/ui/admin/` the admin role: the
//! server's middleware enforces both before the function runs, and the functions check
//! again.

pub mod dashboard;
pub mod endpoints;
pub mod errors;
pub mod providers;
pub mod requests;
pub mod security;
pub mod session;
pub mod settings;
pub mod threats;
pub mod user_sessions;

#[cfg(feature = "ssr")]
mod backend;
#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendError, SharedBackend};
#[cfg(feature = "ssr")]
mod settings_backend;
#[cfg(feature = "ssr")]
pub use settings_backend::SettingsBackend;

#[cfg(test)]
mod tests {
    use super::requests::LoadRequests;
    use super::threats::LoadThreats;
    use super::user_sessions::{LoadSessions, LoadUsers};
    use crate::requests::RequestQuery;
    use crate::sessions::SessionListQuery;
    use crate::threats::ThreatQuery;
    use crate::users::UserQuery;

    /// How server_fn reads a PostUrl form (non-strict, for brackets a browser encodes).
    fn read<T: serde::de::DeserializeOwned>(form: &str) -> T {
        serde_qs::Config::new(5, false)
            .deserialize_str(form)
            .unwrap()
    }

    #[test]
    fn a_list_views_form_is_its_querys_own_fields() {
        let requests = LoadRequests {
            query: RequestQuery {
                range: Some("all".into()),
                session: Some("s/2".into()),
                error_group: Some("9f86d081884c7d65".into()),
                ..Default::default()
            },
        };
        let form = serde_qs::to_string(&requests).unwrap();
        assert_eq!(form, "range=all&session=s%2F2&error_group=9f86d081884c7d65");
        assert_eq!(read::<LoadRequests>(&form).query, requests.query);
        assert_eq!(read::<LoadRequests>("").query, RequestQuery::default());

        let threats = LoadThreats {
            query: ThreatQuery {
                threat_type: Some("xss".into()),
                after: Some("1795372000000_42".into()),
                ..Default::default()
            },
        };
        let form = serde_qs::to_string(&threats).unwrap();
        assert_eq!(form, "threat_type=xss&after=1795372000000_42");
        assert_eq!(read::<LoadThreats>(&form).query, threats.query);

        let sessions = read::<LoadSessions>("range=all&user=user+2");
        assert_eq!(
            sessions.query,
            SessionListQuery {
                range: Some("all".into()),
                user: Some("user 2".into()),
                after: None
            }
        );
        assert_eq!(
            serde_qs::to_string(&sessions).unwrap(),
            "range=all&user=user+2"
        );
        let users = read::<LoadUsers>("sort=last_seen&search=ER-");
        assert_eq!(
            users.query,
            UserQuery {
                search: Some("ER-".into()),
                sort: Some("last_seen".into()),
                after: None
            }
        );
    }
}
