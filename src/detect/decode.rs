//! URL text as an attacker meant it: percent-decoded (again while escapes remain, for
//! double and triple encoding), `%uXXXX` (IIS) escapes, overlong UTF-8 forms of `.`,
//! `/` and `\` (`%c0%ae`, `%c0%af`, `%c1%9c`, …) folded to the character, `+` as a space
//! in query strings.

use std::borrow::Cow;

/// Most decoding passes: `%252e` is double, `%25252e` triple encoding.
const PASSES: usize = 3;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `s` holds an escape that decoding would change.
fn has_escape(s: &[u8]) -> bool {
    s.windows(3).any(|w| {
        w[0] == b'%'
            && ((hex(w[1]).is_some() && hex(w[2]).is_some())
                || ((w[1] == b'u' || w[1] == b'U') && hex(w[2]).is_some()))
    })
}

/// One pass of percent-decoding; `%uXXXX` becomes the UTF-8 of U+XXXX.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if let (Some(h), Some(l)) = (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            if matches!(s.get(i + 1), Some(b'u' | b'U'))
                && let Some(code) = s.get(i + 2..i + 6).and_then(|d| {
                    d.iter()
                        .try_fold(0u32, |n, &b| Some(n << 4 | hex(b)? as u32))
                })
            {
                let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += 6;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Overlong UTF-8 encodings of `.`, `/` and `\` (which a lax decoder turns into the
/// character) as the character itself.
fn fold_overlong(s: &mut Vec<u8>) {
    if !s.iter().any(|&b| b == 0xc0 || b == 0xc1 || b == 0xe0) {
        return;
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let folded = match (s[i], s.get(i + 1), s.get(i + 2)) {
            (0xc0, Some(&b), _) if (0x80..0xc0).contains(&b) => Some((b & 0x3f, 2)),
            // `%c0%2e`: a lead byte before the ASCII character itself
            (0xc0 | 0xc1, Some(&b), _) if matches!(b, b'.' | b'/' | b'\\') => Some((b, 2)),
            (0xc1, Some(&b), _) if (0x80..0xc0).contains(&b) => Some((0x40 | (b & 0x3f), 2)),
            (0xe0, Some(0x80), Some(&b)) if (0x80..0xc0).contains(&b) => Some((b & 0x3f, 3)),
            _ => None,
        };
        match folded {
            Some((c, len)) if matches!(c, b'.' | b'/' | b'\\') => {
                out.push(c);
                i += len;
            }
            _ => {
                out.push(s[i]);
                i += 1;
            }
        }
    }
    *s = out;
}

/// `text` decoded; `query` reads `+` as a space. Borrowed when there is nothing to
/// decode, which is the common case.
pub fn url_text(text: &str, query: bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let plus = query && bytes.contains(&b'+');
    if !plus && !has_escape(bytes) {
        return Cow::Borrowed(text);
    }
    let mut s: Vec<u8> = if plus {
        bytes
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect()
    } else {
        bytes.to_vec()
    };
    for _ in 0..PASSES {
        if !has_escape(&s) {
            break;
        }
        s = percent_decode(&s);
    }
    fold_overlong(&mut s);
    Cow::Owned(String::from_utf8_lossy(&s).into_owned())
}

/// `text` with fullwidth forms (`＜`, `．`) and slash lookalikes (`∕`, `∖`) as the
/// ASCII characters lax servers and browsers read them as; `None` when it has none.
pub fn folded_lookalikes(text: &str) -> Option<String> {
    let fold = |c: char| match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0),
        '\u{2215}' | '\u{2044}' | '\u{29f8}' => Some('/'),
        '\u{2216}' | '\u{29f9}' | '\u{fe68}' => Some('\\'),
        '\u{2024}' => Some('.'),
        _ => None,
    };
    if !text.chars().any(|c| fold(c).is_some()) {
        return None;
    }
    Some(text.chars().map(|c| fold(c).unwrap_or(c)).collect())
}

/// `text` with SQL comments (`/**/`, MySQL's `/*!50000 … */`) as spaces, as a database
/// reads `UN/**/ION` or `/*!union*/`; `None` when it has none.
pub fn without_sql_comments(text: &str) -> Option<String> {
    if !text.contains("/*") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("/*") {
        out.push_str(&rest[..at]);
        rest = &rest[at + 2..];
        if let Some(version) = rest.strip_prefix('!') {
            // A version comment runs its content: keep it.
            rest = version.trim_start_matches(|c: char| c.is_ascii_digit());
            out.push(' ');
            continue;
        }
        match rest.find("*/") {
            Some(end) => rest = &rest[end + 2..],
            None => rest = "",
        }
        out.push(' ');
    }
    out.push_str(rest);
    Some(out.replace("*/", " "))
}

/// `text` without the quotes and backslashes a shell drops inside a word (`w'h'o'am'i`,
/// `c\at`, `who$@ami`); `None` when it has none.
pub fn without_shell_quoting(text: &str) -> Option<String> {
    let b = text.as_bytes();
    // A quote or backslash between letters (or before another quote) of one word.
    let inside = |i: usize| {
        i > 0
            && b[i - 1].is_ascii_alphanumeric()
            && b.get(i + 1)
                .is_some_and(|n| n.is_ascii_alphanumeric() || b"'\"\\$".contains(n))
    };
    let dollar_at = |i: usize| {
        i > 0
            && b[i - 1].is_ascii_alphanumeric()
            && b.get(i + 1) == Some(&b'@')
            && b.get(i + 2).is_some_and(u8::is_ascii_alphanumeric)
    };
    if !(0..b.len()).any(|i| (b"'\"\\".contains(&b[i]) && inside(i)) || dollar_at(i)) {
        return None;
    }
    let mut kept = String::with_capacity(text.len());
    let mut skip = false;
    for (i, ch) in text.char_indices() {
        if std::mem::take(&mut skip) {
            continue;
        }
        match ch {
            '\'' | '"' | '\\' if inside(i) => {}
            '$' if dollar_at(i) => skip = true,
            _ => kept.push(ch),
        }
    }
    Some(kept)
}

/// `text` with HTML character references decoded (`&lt;`, `&#60;`, `&#x3c;`,
/// `&colon;`, `&Tab;`), as a browser reads an attribute; `None` when it has none.
pub fn html_unescaped(text: &str) -> Option<String> {
    if !text.contains('&') {
        return None;
    }
    let named = |name: &str| -> Option<char> {
        Some(match name.to_ascii_lowercase().as_str() {
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "amp" => '&',
            "colon" => ':',
            "tab" => '\t',
            "newline" => '\n',
            "lpar" => '(',
            "rpar" => ')',
            "sol" => '/',
            "bsol" => '\\',
            "period" => '.',
            "equals" => '=',
            "grave" => '`',
            _ => return None,
        })
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(rest.len());
        let (entity, after) = rest.split_at(end);
        let c = if let Some(num) = entity.strip_prefix('#') {
            let (digits, radix) = match num.strip_prefix(['x', 'X']) {
                Some(h) => (h, 16),
                None => (num, 10),
            };
            u32::from_str_radix(digits, radix)
                .ok()
                .and_then(char::from_u32)
        } else {
            named(entity)
        };
        match c {
            Some(c) if !entity.is_empty() => {
                out.push(c);
                changed = true;
                rest = after.strip_prefix(';').unwrap_or(after);
            }
            _ => out.push('&'),
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::url_text;

    #[test]
    fn decodes_what_servers_decode() {
        for (wire, query, meant) in [
            ("id=1%27%20OR%201%3D1", true, "id=1' OR 1=1"),
            ("q=rock+%26+roll", true, "q=rock & roll"),
            ("/a+b", false, "/a+b"),
            ("..%252f..%252fetc%252fpasswd", false, "../../etc/passwd"),
            ("%25252e%25252e%25252f", false, "../"),
            ("%u002e%u002e%u2215", false, "..∕"),
            ("%c0%ae%c0%ae%c0%af", false, "../"),
            ("%e0%80%ae%e0%80%ae%c1%9c", false, "..\\"),
            ("100%", true, "100%"),
            ("%zz%4", true, "%zz%4"),
            ("caf%C3%A9", true, "café"),
        ] {
            assert_eq!(url_text(wire, query), meant, "{wire}");
        }
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            url_text("page=2&sort=name", true),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
