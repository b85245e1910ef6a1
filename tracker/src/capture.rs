//! What the app tells the tracker about a request (who made it, what the model used),
//! and how the client address is found.

use std::net::IpAddr;

use http::HeaderMap;

/// Who made a request, set by the app as an extension.
///
/// Insert it into the **request** extensions in a middleware that runs before the
/// [`SightlineLayer`](crate::SightlineLayer), or into the **response** extensions from
/// the handler (or any inner middleware); the request extension wins when both are set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackedUser {
    /// The platform's id of the authenticated user; `None` for anonymous requests.
    pub user_id: Option<String>,
    /// The platform's session id, when it has sessions.
    pub session_id: Option<String>,
}

impl TrackedUser {
    /// An authenticated user without a session id.
    pub fn user(user_id: impl Into<String>) -> Self {
        TrackedUser {
            user_id: Some(user_id.into()),
            session_id: None,
        }
    }

    /// The same user, with a session id.
    pub fn with_session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }
}

/// The id under which the layer records a request (a UUIDv7, the event's
/// `request_id`), put into the **request** extensions before the wrapped service runs.
///
/// Return it to the client (OpenAI-style APIs send `x-request-id`) so that feedback on
/// this answer can later be sent to Sightline with the same `request_id`. Absent when
/// the path is in the skip-list; present but never sent when the request is sampled
/// out or, with `authenticated_only`, anonymous.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrackedRequestId(pub(crate) String);

impl TrackedRequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TrackedRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an AI request used, set by the handler as a **response** extension.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackedUsage {
    /// Model name as the provider spells it (`gpt-4o-mini`); the server prices it.
    pub model: Option<String>,
    /// Input tokens, cached ones included.
    pub prompt_tokens: Option<i64>,
    /// Output tokens, reasoning included.
    pub completion_tokens: Option<i64>,
    /// Input tokens read from the provider's prompt cache (part of `prompt_tokens`).
    pub cache_read_tokens: Option<i64>,
    /// Input tokens written to the provider's prompt cache (part of `prompt_tokens`).
    pub cache_write_tokens: Option<i64>,
    /// Output tokens spent on reasoning (part of `completion_tokens`).
    pub reasoning_tokens: Option<i64>,
    /// Cost in USD, when the platform knows it; else the server prices the tokens.
    pub cost_usd: Option<f64>,
    /// Why generation stopped (`stop`, `length`, `content_filter`, …).
    pub finish_reason: Option<String>,
    /// Time to first token of a streamed response, in milliseconds.
    pub ttft_ms: Option<f64>,
}

impl TrackedUsage {
    /// Usage of `model` with the given token counts.
    pub fn new(model: impl Into<String>, prompt_tokens: i64, completion_tokens: i64) -> Self {
        TrackedUsage {
            model: Some(model.into()),
            prompt_tokens: Some(prompt_tokens),
            completion_tokens: Some(completion_tokens),
            ..TrackedUsage::default()
        }
    }

    pub(crate) fn apply(&self, event: &mut crate::wire::RequestEvent) {
        event.model = self.model.clone();
        event.prompt_tokens = self.prompt_tokens;
        event.completion_tokens = self.completion_tokens;
        event.cache_read_tokens = self.cache_read_tokens;
        event.cache_write_tokens = self.cache_write_tokens;
        event.reasoning_tokens = self.reasoning_tokens;
        event.cost_usd = self.cost_usd;
        event.finish_reason = self.finish_reason.clone();
        event.ttft_ms = self.ttft_ms;
    }
}

/// A network of trusted reverse proxies: one address, or a CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    /// Parses `10.0.0.0/8`, `::1` or `127.0.0.1`.
    pub(crate) fn parse(s: &str) -> Option<ProxyNet> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(ProxyNet { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix)
                    == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(net.into(), 128, self.prefix) == masked(ip.into(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    let host_bits = u32::from(width - prefix);
    if host_bits >= 128 {
        0
    } else {
        bits >> host_bits
    }
}

/// The client address: the peer, unless the peer is a trusted proxy, in which case
/// `X-Forwarded-For` is read from the right, skipping further trusted proxies.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trusted: &[ProxyNet],
) -> Option<String> {
    let peer = peer.map(|p| p.to_canonical());
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    match peer {
        Some(p) if is_trusted(p) => {
            let forwarded: Vec<IpAddr> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|part| part.trim().parse::<IpAddr>().ok())
                .map(|ip| ip.to_canonical())
                .collect();
            let client = forwarded
                .iter()
                .rev()
                .find(|ip| !is_trusted(**ip))
                .or(forwarded.first())
                .copied()
                .unwrap_or(p);
            Some(client.to_string())
        }
        Some(p) => Some(p.to_string()),
        None => None,
    }
}

/// The `X-Forwarded-For` hops the client itself wrote, for inspection: the whole header
/// when the peer is not a trusted proxy, else the hops left of the client address (what
/// the client sent before the first trusted proxy appended it). `None` when there are
/// none.
pub(crate) fn untrusted_forwarded_for(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trusted: &[ProxyNet],
) -> Option<String> {
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip.to_canonical()));
    let written = match peer {
        Some(p) if is_trusted(p) => {
            // Right to left: trusted proxies, then the client address they saw.
            let proxies = hops
                .iter()
                .rev()
                .take_while(|h| h.parse::<IpAddr>().is_ok_and(is_trusted))
                .count();
            &hops[..hops.len().saturating_sub(proxies + 1)]
        }
        _ => &hops[..],
    };
    (!written.is_empty()).then(|| written.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_hops_the_client_wrote() {
        let trusted = [ProxyNet::parse("10.0.0.0/8").unwrap()];
        let h = xff("1.2.3.4' or 1=1--, 203.0.113.9, 10.0.0.2");
        // Through our proxies: the client wrote the first hop, the proxy saw 203.0.113.9.
        assert_eq!(
            untrusted_forwarded_for(&h, Some("10.0.0.1".parse().unwrap()), &trusted).as_deref(),
            Some("1.2.3.4' or 1=1--")
        );
        // Straight from the client: all of it is the client's.
        assert_eq!(
            untrusted_forwarded_for(&h, Some("198.51.100.7".parse().unwrap()), &trusted).as_deref(),
            Some("1.2.3.4' or 1=1--, 203.0.113.9, 10.0.0.2")
        );
        let clean = xff("203.0.113.9");
        assert_eq!(
            untrusted_forwarded_for(&clean, Some("10.0.0.1".parse().unwrap()), &trusted),
            None
        );
        assert_eq!(
            untrusted_forwarded_for(&HeaderMap::new(), None, &trusted),
            None
        );
    }

    #[test]
    fn usage_carries_cache_and_reasoning_tokens_onto_the_event() {
        let usage = TrackedUsage {
            cache_read_tokens: Some(1_536),
            cache_write_tokens: Some(0),
            reasoning_tokens: Some(64),
            ..TrackedUsage::new("o4-mini", 2_000, 300)
        };
        let mut event = crate::wire::RequestEvent::default();
        usage.apply(&mut event);
        assert_eq!(
            (
                event.prompt_tokens,
                event.cache_read_tokens,
                event.cache_write_tokens,
                event.reasoning_tokens
            ),
            (Some(2_000), Some(1_536), Some(0), Some(64))
        );
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn proxy_nets_match_their_block_only() {
        let net = ProxyNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.9.8.7".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(
            ProxyNet::parse("::1")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(
            ProxyNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(ProxyNet::parse("10.0.0.0/33").is_none());
        assert!(ProxyNet::parse("nonsense").is_none());
    }

    #[test]
    fn forwarded_for_is_honoured_only_from_trusted_peers() {
        let trusted = [ProxyNet::parse("10.0.0.0/8").unwrap()];
        let headers = xff("203.0.113.9, 10.0.0.2");
        let via_proxy = client_ip(&headers, Some("10.0.0.1".parse().unwrap()), &trusted);
        assert_eq!(via_proxy.as_deref(), Some("203.0.113.9"));
        let direct = client_ip(&headers, Some("198.51.100.7".parse().unwrap()), &trusted);
        assert_eq!(direct.as_deref(), Some("198.51.100.7"));
        let no_header = client_ip(
            &HeaderMap::new(),
            Some("10.0.0.1".parse().unwrap()),
            &trusted,
        );
        assert_eq!(no_header.as_deref(), Some("10.0.0.1"));
        assert_eq!(client_ip(&headers, None, &trusted), None);
    }
}
