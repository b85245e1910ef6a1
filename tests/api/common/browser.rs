//! A minimal browser for tests of the signed-in web app: keeps the session cookie,
//! sends `Origin` like a page of the site would, and never follows redirects.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, redirect};

pub struct Browser {
    base_url: String,
    client: reqwest::Client,
    cookie: Option<String>,
    /// The `Origin` sent with state-changing requests (`None`: no header).
    pub origin: Option<String>,
    /// An `X-Forwarded-For` to send (believed when the server trusts the loopback).
    pub forwarded_for: Option<String>,
}

/// A reply: status, `Location`, body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(base_url: &str) -> Browser {
        Browser {
            base_url: base_url.to_owned(),
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
            origin: Some(base_url.to_owned()),
            forwarded_for: None,
        }
    }

    /// A browser whose requests come through a proxy from `client_ip`.
    pub fn from_address(base_url: &str, client_ip: &str) -> Browser {
        Browser {
            forwarded_for: Some(client_ip.to_owned()),
            ..Browser::new(base_url)
        }
    }

    pub fn signed_in(&self) -> bool {
        self.cookie.is_some()
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie.clone()
    }

    pub fn set_session_cookie(&mut self, cookie: Option<String>) {
        self.cookie = cookie;
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<(&str, String)>) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{}", self.base_url, path));
        if let Some(c) = &self.cookie {
            request = request.header("cookie", c);
        }
        if let Some(ip) = &self.forwarded_for {
            request = request.header("x-forwarded-for", ip);
        }
        if method != Method::GET
            && let Some(o) = &self.origin
        {
            request = request.header("origin", o);
        }
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let reply = request.send().await.unwrap();
        self.keep_cookie(reply.headers());
        Reply {
            retry_after: reply
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            status: reply.status(),
            location: reply
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned),
            body: reply.text().await.unwrap_or_default(),
        }
    }

    fn keep_cookie(&mut self, headers: &HeaderMap<HeaderValue>) {
        for value in headers.get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or("").trim();
            if let Some(v) = pair.strip_prefix("sightline_session=") {
                let removed = v.is_empty() || text.to_ascii_lowercase().contains("max-age=0");
                self.cookie = (!removed).then(|| pair.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(
            Method::POST,
            path,
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    pub async fn post_json(&mut self, path: &str, json: serde_json::Value) -> Reply {
        self.send(
            Method::POST,
            path,
            Some(("application/json", json.to_string())),
        )
        .await
    }

    /// Signs in through the login server function.
    pub async fn login(&mut self, username: &str, password: &str) -> Reply {
        self.post_form(
            "/api/ui/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}
