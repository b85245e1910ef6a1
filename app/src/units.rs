//! Sightline's two units: instants ([`EpochMillis`]) and money ([`Micros`]). Each is an
//! `i64` on the wire and in the database (serde and sqlx see through them) and a type of
//! its own everywhere else, so an instant cannot be summed into a cost, nor a cost
//! compared with a count; money's sums saturate. What the views, the reports and the
//! store's reads carry is typed; the rows being written (`NewRequest` and the other
//! `New*`) and the rollups' bucket keys stay plain `i64` milliseconds, as their columns
//! are, and [`crate::time::floor_ms`] buckets them.

use std::iter::Sum;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC: how Sightline stores and sends every instant.
/// `+`/`-` a number of milliseconds move it (as `i64` arithmetic would: callers bound
/// their inputs first, as the query parsers do); `-` another instant gives the
/// milliseconds between them.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent, no_pg_array))]
pub struct EpochMillis(pub i64);

impl EpochMillis {
    /// The epoch itself, 1970-01-01T00:00:00Z.
    pub const EPOCH: EpochMillis = EpochMillis(0);

    /// This instant, by the system clock.
    pub fn now() -> EpochMillis {
        EpochMillis(chrono::Utc::now().timestamp_millis())
    }

    /// Milliseconds since the epoch.
    pub const fn ms(self) -> i64 {
        self.0
    }

    /// `ms` milliseconds later (earlier when negative); `None` past `i64`.
    pub fn checked_add_ms(self, ms: i64) -> Option<EpochMillis> {
        self.0.checked_add(ms).map(EpochMillis)
    }

    /// `ms` milliseconds later, saturating at the ends of `i64`.
    pub fn saturating_add_ms(self, ms: i64) -> EpochMillis {
        EpochMillis(self.0.saturating_add(ms))
    }

    /// `ms` milliseconds earlier, saturating at the ends of `i64`.
    pub fn saturating_sub_ms(self, ms: i64) -> EpochMillis {
        EpochMillis(self.0.saturating_sub(ms))
    }

    /// Milliseconds from `earlier` to this instant; `None` past `i64`.
    pub fn checked_since(self, earlier: EpochMillis) -> Option<i64> {
        self.0.checked_sub(earlier.0)
    }
}

impl std::ops::Add<i64> for EpochMillis {
    type Output = EpochMillis;
    fn add(self, ms: i64) -> EpochMillis {
        EpochMillis(self.0 + ms)
    }
}

impl std::ops::Sub<i64> for EpochMillis {
    type Output = EpochMillis;
    fn sub(self, ms: i64) -> EpochMillis {
        EpochMillis(self.0 - ms)
    }
}

impl std::ops::Sub for EpochMillis {
    type Output = i64;
    fn sub(self, earlier: EpochMillis) -> i64 {
        self.0 - earlier.0
    }
}

/// Milliseconds since the epoch, as a URL or a cursor writes them.
impl std::str::FromStr for EpochMillis {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<EpochMillis, Self::Err> {
        s.parse().map(EpochMillis)
    }
}

/// Its milliseconds since the epoch, as the JSON carries it.
impl std::fmt::Display for EpochMillis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// US dollars in millionths (micro-dollars): how Sightline computes, stores, sums and
/// sends money, exactly. Sums saturate rather than wrap.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent, no_pg_array))]
pub struct Micros(pub i64);

impl Micros {
    pub const ZERO: Micros = Micros(0);

    /// Micro-dollars.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The amount in dollars, for charts and ratios (not for sums).
    pub fn usd(self) -> f64 {
        self.0 as f64 / 1e6
    }

    pub fn checked_add(self, other: Micros) -> Option<Micros> {
        self.0.checked_add(other.0).map(Micros)
    }

    pub fn saturating_add(self, other: Micros) -> Micros {
        Micros(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Micros) -> Micros {
        Micros(self.0.saturating_sub(other.0))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// Its count of micro-dollars, as the JSON carries it (`3410000`); [`crate::format`]
/// says it in dollars.
impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A saturating sum, as every sum of money in Sightline is.
impl Sum for Micros {
    fn sum<I: Iterator<Item = Micros>>(iter: I) -> Micros {
        iter.fold(Micros::ZERO, Micros::saturating_add)
    }
}

impl<'a> Sum<&'a Micros> for Micros {
    fn sum<I: Iterator<Item = &'a Micros>>(iter: I) -> Micros {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_plain_integers_on_the_wire() {
        let t = EpochMillis(1_795_372_396_000);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1795372396000");
        assert_eq!(
            serde_json::from_str::<EpochMillis>("42").unwrap(),
            EpochMillis(42)
        );
        assert_eq!(t + 1000 - t, 1000);
        assert_eq!(EpochMillis(i64::MAX).checked_add_ms(1), None);
        assert_eq!(
            EpochMillis(i64::MIN).saturating_sub_ms(1),
            EpochMillis(i64::MIN)
        );
        assert_eq!(EpochMillis(5).checked_since(EpochMillis(2)), Some(3));
    }

    #[test]
    fn money_sums_saturate_and_serialise_as_micro_dollars() {
        let big = Micros(i64::MAX - 1);
        assert_eq!([big, Micros(5)].iter().sum::<Micros>(), Micros(i64::MAX));
        assert_eq!(big.checked_add(Micros(5)), None);
        assert_eq!(
            serde_json::to_string(&Micros(3_410_000)).unwrap(),
            "3410000"
        );
        assert_eq!(Micros(1_500_000).usd(), 1.5);
    }
}
