//! Error messages to error groups: the variable parts of a message (numbers, ids,
//! quoted values, addresses, tokens) become placeholders, so `timeout after 3012 ms for
//! user 'bob'` and `timeout after 15 ms for user 'al'` are one group, `timeout after <n>
//! ms for user <str>`. The group is named by a short fingerprint of that key, which is
//! what `request_log.error_group` and the error rollups store. Pure: the same message
//! always gives the same key, at ingest, in the backfill and in a rebuild.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use sha2::{Digest, Sha256};

/// The longest group key, in characters; a longer one is cut (and ends in `…`).
pub const MAX_KEY_CHARS: usize = 200;

/// The longest example message kept per group, in characters.
pub const MAX_EXAMPLE_CHARS: usize = 500;

/// Characters of a message looked at: the ingest keeps at most 2 000, and a key never
/// needs more than this to be told apart.
const MAX_READ_CHARS: usize = 2_000;

/// One rewrite: what matches `pattern` becomes what `replace` makes of it.
struct Rule {
    pattern: Regex,
    replace: fn(&Captures) -> String,
}

fn rule(pattern: &str, replace: fn(&Captures) -> String) -> Rule {
    Rule {
        // The patterns are constants of this file; the unit tests compile each one.
        pattern: Regex::new(pattern).expect("an error-group pattern compiles"),
        replace,
    }
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// In order: a later rule sees the placeholders of the earlier ones, never their text.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Quoted values; a single quote only opens after a non-word character, so the
        // apostrophe of "can't" is not a quote.
        rule(r#""[^"\n]{0,300}""#, |_| "<str>".into()),
        rule(r"`[^`\n]{0,300}`", |_| "<str>".into()),
        rule(r"(^|[^\w'])'[^'\n]{0,300}'", |c| format!("{}<str>", &c[1])),
        rule(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", |_| "<email>".into()),
        rule(r#"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+"#, |_| {
            "<url>".into()
        }),
        rule(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            |_| "<uuid>".into(),
        ),
        rule(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b", |_| {
            "<ip>".into()
        }),
        rule(
            // IPv6: eight groups, or fewer with one `::` (so a time like 10:30:00 is not one).
            r"\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b|\b(?:[0-9a-fA-F]{1,4}:){1,6}(?::[0-9a-fA-F]{1,4}){1,6}\b",
            |c| {
                if has_digit(&c[0]) {
                    "<ip>".into()
                } else {
                    c[0].to_string()
                }
            },
        ),
        // Hex ids: `0x…`, or eight or more hex digits with a digit among them (so a word
        // like "deadbeef" or "accededface" stays).
        rule(r"\b0[xX][0-9a-fA-F]+\b", |_| "<hex>".into()),
        // (After `_` too: `key_3fa9c2d1`.)
        rule(r"(^|[^0-9A-Za-z])([0-9a-fA-F]{8,})\b", |c| {
            if has_digit(&c[2]) {
                format!("{}<hex>", &c[1])
            } else {
                c[0].to_string()
            }
        }),
        // Long tokens (keys, request ids, base64): 16 or more of these characters with
        // a digit and a letter among them.
        rule(r"[A-Za-z0-9_\-+/=]{16,}", |c| {
            let t = &c[0];
            if has_digit(t) && t.bytes().any(|b| b.is_ascii_alphabetic()) {
                "<token>".into()
            } else {
                t.to_string()
            }
        }),
        // Numbers, but not the digits of a name (`e2e`, `utf8`, `http2`, `/v1/`): a run of
        // digits right after a letter or digit stays.
        rule(r"(^|[^A-Za-z0-9])\d+(?:\.\d+)*", |c| {
            format!("{}<n>", &c[1])
        }),
        rule(r"\s+", |_| " ".into()),
    ]
});

/// The group key of `message`: its variable parts as placeholders, spaces collapsed,
/// at most [`MAX_KEY_CHARS`] characters.
pub fn normalise(message: &str) -> String {
    let mut key: String = message.chars().take(MAX_READ_CHARS).collect();
    for r in RULES.iter() {
        if r.pattern.is_match(&key) {
            key = r.pattern.replace_all(&key, r.replace).into_owned();
        }
    }
    truncate(key.trim(), MAX_KEY_CHARS)
}

/// The key of an error without a message: its status.
pub fn status_key(status_code: i32) -> String {
    format!("HTTP {status_code} (no error message)")
}

/// `s` cut to `max` characters, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The fingerprint of a key: 16 hex digits of its SHA-256, short enough to index and
/// to put in a URL.
pub fn fingerprint(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_parts_become_placeholders() {
        let cases = [
            (
                "timeout after 3012 ms for user 'bob'",
                "timeout after <n> ms for user <str>",
            ),
            (
                "timeout after 15 ms for user 'al'",
                "timeout after <n> ms for user <str>",
            ),
            (
                r#"model "gpt-4o-mini" is not available"#,
                "model <str> is not available",
            ),
            (
                "upstream 10.0.3.7:8443 refused the connection",
                "upstream <ip> refused the connection",
            ),
            ("no route to 2001:db8::8a2e:370:7334", "no route to <ip>"),
            (
                "peer fe80::1 and 2001:db8:0:0:0:0:2:1 gone",
                "peer <ip> and <ip> gone",
            ),
            ("job failed at 10:30:00", "job failed at <n>:<n>:<n>"),
            (
                "request 3f2c1a9e-7b4d-4e8a-9c1f-0a2b3c4d5e6f failed",
                "request <uuid> failed",
            ),
            (
                "invalid api key sk-proj-Ab12Cd34Ef56Gh78Ij90",
                "invalid api key <token>",
            ),
            ("trace 9f86d081884c7d65 lost", "trace <hex> lost"),
            ("segfault at 0x7ffd5e8c", "segfault at <hex>"),
            ("key sl_3fa9c2d1 is revoked", "key sl_<hex> is revoked"),
            (
                "quota exceeded for alice@example.com",
                "quota exceeded for <email>",
            ),
            (
                "GET https://api.example.com/v1/x?id=3 returned 502",
                "GET <url> returned <n>",
            ),
            (
                "rate limited:  retry in 1.5s\n(limit 60/min)",
                "rate limited: retry in <n>s (limit <n>/min)",
            ),
            (
                "can't parse `{\"a\": 1}` at line 3",
                "can't parse <str> at line <n>",
            ),
            ("connection reset by peer", "connection reset by peer"),
            (
                "e2e check of utf8 on /v1/chat over http2 failed 3 times",
                "e2e check of utf8 on /v1/chat over http2 failed <n> times",
            ),
            ("deadbeef is not hex to us", "deadbeef is not hex to us"),
        ];
        for (message, key) in cases {
            assert_eq!(normalise(message), key, "{message}");
        }
    }

    #[test]
    fn messages_of_one_shape_share_a_fingerprint() {
        let a = fingerprint(&normalise("timeout after 3012 ms for user 'bob'"));
        let b = fingerprint(&normalise("timeout after 15 ms for user 'al'"));
        let c = fingerprint(&normalise("timeout after 15 s for user 'al'"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        // Stable across versions: it is stored.
        assert_eq!(fingerprint("x"), "2d711642b726b044");
    }

    #[test]
    fn the_key_is_bounded() {
        let long = "word ".repeat(1_000);
        let key = normalise(&long);
        assert_eq!(key.chars().count(), MAX_KEY_CHARS);
        assert!(key.ends_with('…'));
        let wide = "é".repeat(5_000);
        assert_eq!(normalise(&wide).chars().count(), MAX_KEY_CHARS);
        assert_eq!(normalise("   "), "");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
    }

    #[test]
    fn a_status_without_a_message_has_its_own_key() {
        assert_eq!(status_key(503), "HTTP 503 (no error message)");
    }
}
