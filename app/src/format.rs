//! Number formatting for the dashboard: short, readable, and the same everywhere.

use crate::units::{EpochMillis, Micros};

/// A count in compact form: `950`, `1.2k`, `3.4M`, `1.1B`.
pub fn compact_count(n: i64) -> String {
    let abs = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    let (value, suffix) = match abs {
        a if a >= 1e9 => (a / 1e9, "B"),
        a if a >= 1e6 => (a / 1e6, "M"),
        a if a >= 1e3 => (a / 1e3, "k"),
        a => return format!("{sign}{a}"),
    };
    // One decimal below 100 (1.2k, 12.5k), none above (125k), and no trailing ".0".
    let text = if value < 100.0 {
        let rounded = (value * 10.0).round() / 10.0;
        if rounded >= 100.0 {
            format!("{rounded:.0}")
        } else {
            format!("{rounded:.1}")
        }
    } else {
        format!("{value:.0}")
    };
    format!("{sign}{}{suffix}", text.trim_end_matches(".0"))
}

/// A count in full, its thousands grouped: `950`, `12,345`, `-1,000,000`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        grouped.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(d);
    }
    grouped
}

/// A share in `0.0..=1.0` as a percentage: `0.0123` → `1.23%`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// How long ago something happened, for "updated N s ago".
pub fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 5 => "just now".to_string(),
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s => format!("{} h ago", s / 3600),
    }
}

/// An instant as `2026-11-22 18:33 UTC` (the same on the server and in the browser).
pub fn instant(at: EpochMillis) -> String {
    let ms = at.ms();
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// The time of day of an instant, to the second: `18:33:16 UTC`.
pub fn clock_time(at: EpochMillis) -> String {
    let ms = at.ms();
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format("%H:%M:%S UTC").to_string())
}

/// An instant to the millisecond, for one event: `2026-11-22 18:33:16.042 UTC`.
pub fn instant_precise(at: EpochMillis) -> String {
    let ms = at.ms();
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
    )
}

/// An instant as RFC 3339 in UTC to the millisecond, for machines and messages:
/// `2026-11-22T18:33:16.123Z`.
pub fn rfc3339(at: EpochMillis) -> String {
    let ms = at.ms();
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// A span of time: `0 s`, `45 s`, `12 min`, `2 h 5 min`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s % 3600 < 60 => format!("{} h", s / 3600),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Money from micro-dollars: `$3.41`, `$0.0042` for small amounts, `$12.3k` for large.
pub fn money(amount: Micros) -> String {
    let micros = amount.micros();
    if micros == 0 {
        return "$0".to_string();
    }
    let usd = micros as f64 / 1e6;
    match usd.abs() {
        a if a >= 10_000.0 => format!("${}", compact_count(usd.round() as i64)),
        a if a >= 1.0 => format!("${usd:.2}"),
        a if a >= 0.01 => format!("${usd:.3}"),
        _ => format!("${usd:.4}"),
    }
}

/// Money to the micro-dollar, for one request: `$0.000045`, `$3.41`, `$1.50`.
pub fn money_exact(amount: Micros) -> String {
    let micros = amount.micros();
    if micros == 0 {
        return "$0".to_string();
    }
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let fraction = format!("{:06}", abs % 1_000_000);
    let fraction = fraction.trim_end_matches('0');
    format!("{sign}${}.{fraction:0<2}", abs / 1_000_000)
}

/// A latency: `412 ms`, `3.2 ms`, `1.25 s`; `–` when there is none.
pub fn millis(ms: Option<f64>) -> String {
    match ms {
        None => "–".to_string(),
        Some(ms) if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) if ms >= 10.0 => format!("{ms:.0} ms"),
        Some(ms) => format!("{ms:.1} ms"),
    }
}

/// The change from `previous` to `current`: `+12%`, `-3.4%`, `new` from zero, `` when both are zero.
pub fn change(current: f64, previous: f64) -> String {
    if previous == 0.0 {
        return if current == 0.0 {
            String::new()
        } else {
            "new".to_string()
        };
    }
    let pct = (current - previous) / previous * 100.0;
    if pct.abs() >= 10.0 {
        format!("{pct:+.0}%")
    } else {
        format!("{pct:+.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_compact() {
        assert_eq!(compact_count(0), "0");
        assert_eq!(compact_count(950), "950");
        assert_eq!(compact_count(1_000), "1k");
        assert_eq!(compact_count(1_234), "1.2k");
        assert_eq!(compact_count(12_549), "12.5k");
        assert_eq!(compact_count(99_960), "100k");
        assert_eq!(compact_count(125_000), "125k");
        assert_eq!(compact_count(3_400_000), "3.4M");
        assert_eq!(compact_count(1_100_000_000), "1.1B");
        assert_eq!(compact_count(-1_500), "-1.5k");
        assert_eq!(count(0), "0");
        assert_eq!(count(950), "950");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(12_345), "12,345");
        assert_eq!(count(-1_234_567), "-1,234,567");
        assert_eq!(count(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn money_latency_and_change_read_naturally() {
        assert_eq!(money(Micros(3_410_000)), "$3.41");
        assert_eq!(money(Micros(4_200)), "$0.0042");
        assert_eq!(money(Micros(45_000)), "$0.045");
        assert_eq!(money(Micros(12_345_000_000)), "$12.3k");
        assert_eq!(money(Micros(0)), "$0");
        assert_eq!(millis(Some(412.4)), "412 ms");
        assert_eq!(millis(Some(3.21)), "3.2 ms");
        assert_eq!(millis(Some(1250.0)), "1.25 s");
        assert_eq!(millis(None), "–");
        assert_eq!(change(112.0, 100.0), "+12%");
        assert_eq!(change(96.6, 100.0), "-3.4%");
        assert_eq!(change(5.0, 0.0), "new");
        assert_eq!(change(0.0, 0.0), "");
    }

    #[test]
    fn instants_and_durations_read_naturally() {
        assert_eq!(
            instant_precise(EpochMillis(1_795_372_396_042)),
            "2026-11-22 18:33:16.042 UTC"
        );
        assert_eq!(clock_time(EpochMillis(1_795_372_396_042)), "18:33:16 UTC");
        assert_eq!(duration(999), "0 s");
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(12 * 60_000 + 5_000), "12 min");
        assert_eq!(duration(7_200_000), "2 h");
        assert_eq!(duration(7_500_000), "2 h 5 min");
    }

    #[test]
    fn exact_money_keeps_every_micro_dollar() {
        assert_eq!(money_exact(Micros(45)), "$0.000045");
        assert_eq!(money_exact(Micros(3_410_000)), "$3.41");
        assert_eq!(money_exact(Micros(1_500_000)), "$1.50");
        assert_eq!(money_exact(Micros(2_000_000)), "$2.00");
        assert_eq!(money_exact(Micros(12_345_678_901)), "$12345.678901");
        assert_eq!(money_exact(Micros(-120)), "-$0.00012");
        assert_eq!(money_exact(Micros(0)), "$0");
    }

    #[test]
    fn percentages_keep_small_rates_readable() {
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.0123), "1.23%");
        assert_eq!(percent(0.25), "25.0%");
        assert_eq!(percent(1.0), "100.0%");
    }

    #[test]
    fn ago_reads_naturally() {
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(31), "31 s ago");
        assert_eq!(ago(125), "2 min ago");
        assert_eq!(ago(7300), "2 h ago");
    }
}
