//! The query strings of the list views (threats, requests): reading a parameter, the
//! range presets they share, and writing a view's URL back.

use crate::dto::EpochMillis;
use crate::range::{RangeKind, TimeRange};

/// A parameter's value, trimmed; `None` when it is absent or blank.
pub fn param(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Where `?range=` starts at `now`: a preset (`24h`, `7d`, `1m`, `3m`, the dashboard's
/// ranges) or `all` (no start).
pub fn range_start(range: &str, now: EpochMillis) -> Result<Option<EpochMillis>, String> {
    if range == "all" {
        return Ok(None);
    }
    let kind = RangeKind::parse(range)
        .filter(|k| *k != RangeKind::Custom)
        .ok_or_else(|| format!("unknown range `{range}`: use 24h, 7d, 1m, 3m or all"))?;
    Ok(Some(TimeRange::preset(kind, now).start))
}

/// `path` with the non-empty `pairs` as its query string, values percent-encoded.
pub fn href(path: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Percent-encodes a query value or path segment (letters, digits and `-._~` stay).
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_ranges_and_urls() {
        assert_eq!(param(&Some("  gpt-4o ".into())), Some("gpt-4o".into()));
        assert_eq!(param(&Some("   ".into())), None);
        assert_eq!(param(&None), None);
        let now = 1_795_372_396_000;
        assert_eq!(range_start("all", now), Ok(None));
        assert_eq!(
            range_start("7d", now),
            Ok(Some(TimeRange::preset(RangeKind::Week, now).start))
        );
        assert!(range_start("custom", now).is_err());
        assert!(range_start("1y", now).is_err());
        assert_eq!(
            href(
                "/requests",
                &[
                    ("q", Some("50% off & more")),
                    ("model", None),
                    ("user", Some(""))
                ]
            ),
            "/requests?q=50%25%20off%20%26%20more"
        );
        assert_eq!(href("/threats", &[("q", None)]), "/threats");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }
}
