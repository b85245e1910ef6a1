//! Time buckets: the one place that knows how instants fall into buckets (UTC).

use crate::units::EpochMillis;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Start of the bucket of size `size_ms` that holds `t`; buckets are aligned to the
/// Unix epoch, so hours and days are UTC hours and days.
pub fn floor_to(t: EpochMillis, size_ms: i64) -> EpochMillis {
    EpochMillis(floor_ms(t.ms(), size_ms))
}

/// [`floor_to`] of plain milliseconds, for the rollups' keys: the `bucket_start` columns
/// computed from stored rows' `BIGINT` instants.
pub fn floor_ms(t: i64, size_ms: i64) -> i64 {
    t.div_euclid(size_ms) * size_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_fall_into_epoch_aligned_buckets() {
        assert_eq!(floor_to(EpochMillis(0), HOUR_MS), EpochMillis(0));
        assert_eq!(floor_to(EpochMillis(HOUR_MS - 1), HOUR_MS), EpochMillis(0));
        assert_eq!(
            floor_to(EpochMillis(HOUR_MS), HOUR_MS),
            EpochMillis(HOUR_MS)
        );
        // 2026-11-22T18:33:16Z falls into the 18:00 hour and the 22nd's day.
        let t = 1_795_372_396_000;
        assert_eq!(
            floor_to(EpochMillis(t), HOUR_MS),
            EpochMillis(1_795_370_400_000)
        );
        assert_eq!(
            floor_to(EpochMillis(t), DAY_MS),
            EpochMillis(1_795_305_600_000)
        );
        assert_eq!(floor_to(EpochMillis(-1), HOUR_MS), EpochMillis(-HOUR_MS));
    }
}
