//! Where `/proxy/{provider}/…` goes: the built-in public providers, replaced or
//! extended by `SIGHTLINE_PROXY_UPSTREAMS` (`name=URL,…`).

use std::fmt;

/// How a provider reports usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The OpenAI API and every server compatible with it (usage includes cached tokens
    /// in `prompt_tokens`).
    OpenAi,
    /// Anthropic's Messages API (`input_tokens` excludes the cache tokens).
    Anthropic,
}

/// A provider calls can be forwarded to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub name: String,
    /// Without a trailing slash; the rest of the proxied path is appended to it.
    pub base: String,
    pub flavor: Flavor,
}

/// The public providers Sightline knows out of the box, with the base URL their
/// official SDKs append paths to (so `base_url=…/proxy/<name>` or `…/proxy/<name>/v1`
/// works as the provider's own).
pub const DEFAULT_UPSTREAMS: &[(&str, &str)] = &[
    ("openai", "https://api.openai.com"),
    ("anthropic", "https://api.anthropic.com"),
    (
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai",
    ),
    ("mistral", "https://api.mistral.ai"),
    ("groq", "https://api.groq.com/openai"),
    ("deepseek", "https://api.deepseek.com"),
    ("openrouter", "https://openrouter.ai/api"),
];

/// Why `SIGHTLINE_PROXY_UPSTREAMS` could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamsError {
    #[error("`{0}` is not `name=URL`")]
    NotAPair(String),
    #[error("upstream name `{0}` must be 1 to 64 lowercase letters, digits, `-` or `_`")]
    BadName(String),
    #[error("upstream `{name}`: `{url}` is not an http:// or https:// URL without a query")]
    BadUrl { name: String, url: String },
}

/// The configured upstreams, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstreams(Vec<Upstream>);

impl Upstreams {
    /// The defaults, with `spec` (`name=URL,…`, may be empty) replacing those of the
    /// same name and adding others. A name starting with `anthropic` speaks Anthropic's
    /// API; every other one the OpenAI API.
    pub fn parse(spec: &str) -> Result<Upstreams, UpstreamsError> {
        let mut list: Vec<Upstream> = DEFAULT_UPSTREAMS
            .iter()
            .map(|(name, base)| upstream(name, base))
            .collect();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, url) = item
                .split_once('=')
                .ok_or_else(|| UpstreamsError::NotAPair(item.to_owned()))?;
            let (name, url) = (name.trim(), url.trim());
            let valid_name = (1..=64).contains(&name.len())
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid_name {
                return Err(UpstreamsError::BadName(name.to_owned()));
            }
            let parsed = url::Url::parse(url).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
            });
            if parsed.is_none() {
                return Err(UpstreamsError::BadUrl {
                    name: name.to_owned(),
                    url: url.to_owned(),
                });
            }
            list.retain(|u| u.name != name);
            list.push(upstream(name, url));
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Upstreams(list))
    }

    pub fn get(&self, name: &str) -> Option<&Upstream> {
        self.0.iter().find(|u| u.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|u| u.name.as_str())
    }
}

impl Default for Upstreams {
    fn default() -> Self {
        Upstreams::parse("").unwrap_or(Upstreams(Vec::new()))
    }
}

impl fmt::Display for Upstreams {
    /// The names, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().collect::<Vec<_>>().join(", "))
    }
}

fn upstream(name: &str, base: &str) -> Upstream {
    Upstream {
        name: name.to_owned(),
        base: base.trim_end_matches('/').to_owned(),
        flavor: if name.starts_with("anthropic") {
            Flavor::Anthropic
        } else {
            Flavor::OpenAi
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_replaced_and_extended_by_name() {
        let u =
            Upstreams::parse(" openai=http://127.0.0.1:9/ , vllm=http://gpu-1:8000/v1").unwrap();
        assert_eq!(u.get("openai").unwrap().base, "http://127.0.0.1:9");
        assert_eq!(u.get("vllm").unwrap().base, "http://gpu-1:8000/v1");
        assert_eq!(u.get("vllm").unwrap().flavor, Flavor::OpenAi);
        assert_eq!(u.get("anthropic").unwrap().flavor, Flavor::Anthropic);
        assert_eq!(
            u.to_string(),
            "anthropic, deepseek, gemini, groq, mistral, openai, openrouter, vllm"
        );
        assert_eq!(
            Upstreams::default().names().count(),
            DEFAULT_UPSTREAMS.len()
        );
    }

    #[test]
    fn bad_entries_are_named() {
        assert_eq!(
            Upstreams::parse("openai"),
            Err(UpstreamsError::NotAPair("openai".into()))
        );
        assert_eq!(
            Upstreams::parse("Open AI=http://x"),
            Err(UpstreamsError::BadName("Open AI".into()))
        );
        assert_eq!(
            Upstreams::parse("x=ftp://host"),
            Err(UpstreamsError::BadUrl {
                name: "x".into(),
                url: "ftp://host".into()
            })
        );
        assert!(Upstreams::parse("x=http://host/?a=1").is_err());
    }
}
