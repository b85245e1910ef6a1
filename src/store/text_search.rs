//! Searching text in any case, the same on both databases. SQLite's `LOWER` and `LIKE`
//! fold ASCII only, PostgreSQL's follow the database's locale, so neither is asked to
//! fold: every character of the search becomes the set of characters it matches (its
//! Unicode simple case foldings, from `regex-syntax`'s tables) and both databases do a
//! plain case-sensitive match of that pattern: `GLOB` on SQLite, an advanced regular
//! expression (`~`) on PostgreSQL. Pattern characters of the search (`%`, `_`, `*`,
//! `[`, `.`, …) are matched literally.

use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

use super::DbKind;

/// The characters `c` matches: itself and every character with the same simple case
/// folding (`k` matches `k`, `K` and the Kelvin sign; `İ`, which has none, only itself).
fn variants(c: char) -> Vec<char> {
    let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    class.case_fold_simple();
    class.iter().flat_map(|r| r.start()..=r.end()).collect()
}

/// The pattern, bound to the placeholder of [`contains`], that matches any text holding
/// `text` in any case.
pub(super) fn pattern(kind: DbKind, text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4 + 2);
    if kind == DbKind::Sqlite {
        out.push('*');
    }
    for c in text.chars() {
        let set = variants(c);
        if set.len() > 1 {
            out.push('[');
            out.extend(set);
            out.push(']');
            continue;
        }
        match kind {
            // GLOB's wildcards and class opener, as one-character classes.
            DbKind::Sqlite if matches!(c, '*' | '?' | '[') => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            // Every metacharacter of a regular expression is ASCII punctuation; a
            // backslash before punctuation means the character itself.
            DbKind::Postgres if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if kind == DbKind::Sqlite {
        out.push('*');
    }
    out
}

/// The condition that `column` holds the pattern bound at `placeholder`.
pub(super) fn contains(kind: DbKind, column: &str, placeholder: &str) -> String {
    match kind {
        DbKind::Sqlite => format!("{column} GLOB {placeholder}"),
        DbKind::Postgres => format!("{column} ~ {placeholder}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_matches_its_case_foldings_and_nothing_else() {
        assert_eq!(variants('ü'), ['Ü', 'ü']);
        // Old Cyrillic letter forms fold to the modern ones.
        assert_eq!(variants('Д'), ['Д', 'д', 'ᲁ']);
        assert_eq!(variants('k'), ['K', 'k', '\u{212A}']);
        assert_eq!(variants('İ'), ['İ']);
        assert_eq!(variants('7'), ['7']);
        assert_eq!(pattern(DbKind::Sqlite, "Üa*?[]"), "*[Üü][Aa][*][?][[]]*");
        assert_eq!(pattern(DbKind::Postgres, "Üa*.%_]"), r"[Üü][Aa]\*\.\%\_\]");
        assert_eq!(pattern(DbKind::Postgres, "я 1"), "[Яя] 1");
        assert_eq!(
            contains(DbKind::Postgres, "endpoint", "$3"),
            "endpoint ~ $3"
        );
    }
}
