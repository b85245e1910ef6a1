//! Sightline's two units: money ([`Micros`]) and instants ([`EpochMillis`]). Money is an
//! `i64` on the wire and in the database (serde and sqlx see through it) and a type of
//! its own everywhere else, so a cost cannot be added to a count or an instant, and its
//! sums saturate. Instants are still a plain `i64` alias: making them a newtype too is
//! the remaining half of this module's job.

use std::iter::Sum;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC: how Sightline stores and sends every instant.
/// Still a plain `i64` (the newtype is the next step, see the module comment).
pub type EpochMillis = i64;

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
