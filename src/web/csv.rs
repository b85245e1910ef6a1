//! Sightline's one CSV writer: RFC 4180 records (CRLF line ends; a field quoted when it
//! holds `"`, `,`, CR or LF, its quotes doubled), UTF-8, and cells neutralised against
//! formula injection: a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading
//! `'` (OWASP's advice), so a spreadsheet shows it as text instead of running it.

/// Appends one record of `cells` to `out`.
pub fn write_record(out: &mut Vec<u8>, cells: &[impl AsRef<str>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_field(out, cell.as_ref());
    }
    out.extend_from_slice(b"\r\n");
}

fn write_field(out: &mut Vec<u8>, cell: &str) {
    let guard = needs_guard(cell);
    if cell.contains(['"', ',', '\r', '\n']) {
        out.push(b'"');
        if guard {
            out.push(b'\'');
        }
        for part in cell.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        if guard {
            out.push(b'\'');
        }
        out.extend_from_slice(cell.as_bytes());
    }
}

/// Whether a spreadsheet could read `cell` as a formula. A plain number (`-12.5`, which
/// Sightline writes itself) is a value, not a formula, and stays as it is.
fn needs_guard(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(cell)
}

/// `-12`, `-0.5`: a minus, digits, and at most one decimal point between digits.
fn is_plain_number(cell: &str) -> bool {
    let Some(digits) = cell.strip_prefix('-') else {
        return false;
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::write_record;

    fn record(cells: &[&str]) -> String {
        let mut out = Vec::new();
        write_record(&mut out, cells);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_cells_are_written_as_they_are() {
        assert_eq!(
            record(&[
                "a",
                "",
                "hello world",
                "0.001234",
                "2026-11-22T18:33:16.123Z"
            ]),
            "a,,hello world,0.001234,2026-11-22T18:33:16.123Z\r\n"
        );
        assert_eq!(record(&[""]), "\r\n");
        assert_eq!(
            record(&["x'y", "a=b", "a-b", "user@example.com"]),
            "x'y,a=b,a-b,user@example.com\r\n"
        );
        assert_eq!(
            record(&["<script>alert(1)</script>"]),
            "<script>alert(1)</script>\r\n"
        );
    }

    #[test]
    fn fields_with_quotes_commas_and_line_breaks_are_quoted() {
        assert_eq!(record(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(record(&["a,b", "c"]), "\"a,b\",c\r\n");
        assert_eq!(record(&["line 1\nline 2"]), "\"line 1\nline 2\"\r\n");
        assert_eq!(record(&["cr\rlf\r\n"]), "\"cr\rlf\r\n\"\r\n");
        assert_eq!(record(&["\""]), "\"\"\"\"\r\n");
        assert_eq!(
            record(&["He said \"stop, now\"\nthen left", "x"]),
            "\"He said \"\"stop, now\"\"\nthen left\",x\r\n"
        );
    }

    #[test]
    fn non_ascii_is_utf8() {
        let out = record(&["Zürich", "東京", "emoji 🚀", "a,ü"]);
        assert_eq!(out, "Zürich,東京,emoji 🚀,\"a,ü\"\r\n");
        assert_eq!(out.as_bytes()[1..3], [0xC3, 0xBC]);
    }

    #[test]
    fn formula_prefixes_are_neutralised() {
        assert_eq!(record(&["=1+2"]), "'=1+2\r\n");
        assert_eq!(record(&["+1"]), "'+1\r\n");
        assert_eq!(
            record(&["-2+3+cmd|' /C calc'!A0"]),
            "'-2+3+cmd|' /C calc'!A0\r\n"
        );
        assert_eq!(record(&["@SUM(A1)"]), "'@SUM(A1)\r\n");
        assert_eq!(record(&["\tx"]), "'\tx\r\n");
        assert_eq!(record(&["\rx"]), "\"'\rx\"\r\n");
        // Quoted and neutralised: the quote goes inside the field.
        assert_eq!(
            record(&["=HYPERLINK(\"http://x\",\"y\")"]),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n"
        );
        // Only the first character counts.
        assert_eq!(record(&[" =1"]), " =1\r\n");
    }

    #[test]
    fn plain_negative_numbers_are_values() {
        assert_eq!(record(&["-12", "-0.5", "-3."]), "-12,-0.5,'-3.\r\n");
        assert_eq!(record(&["-", "--1", "-1e5"]), "'-,'--1,'-1e5\r\n");
    }
}
