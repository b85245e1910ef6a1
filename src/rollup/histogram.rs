//! The latency histogram of the rollups: logarithmic bins, so any quantile read from
//! merged bins is within 2% (relative) of the exact one, whatever the distribution,
//! and merging two histograms is adding their counts bin by bin.

/// Relative accuracy of a quantile read from the histogram (the dashboard's promise).
pub const RELATIVE_ACCURACY: f64 = 0.02;
/// `(1 + α) / (1 - α)`: each bin covers `(γ^(i-1), γ^i]` milliseconds.
const GAMMA: f64 = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY);
/// Latencies at or below this many milliseconds (1 µs) count as zero.
const MIN_MS: f64 = 0.001;
/// The bin of (practically) zero latencies.
pub const ZERO_BIN: i32 = -100_000;

/// The bin a latency in milliseconds falls into.
pub fn bin_of(latency_ms: f64) -> i32 {
    if latency_ms.is_nan() || latency_ms <= MIN_MS {
        ZERO_BIN
    } else {
        (latency_ms.ln() / GAMMA.ln()).ceil() as i32
    }
}

/// The representative latency of a bin: within [`RELATIVE_ACCURACY`] of every value in it.
pub fn value_of(bin: i32) -> f64 {
    if bin == ZERO_BIN {
        0.0
    } else {
        2.0 * GAMMA.powi(bin) / (GAMMA + 1.0)
    }
}

/// The nearest rank of quantile `num/den` among `total` values: `ceil(total·num/den)`,
/// at least 1. Integer arithmetic, so SQL and Rust agree exactly.
pub fn rank(total: i64, num: i64, den: i64) -> i64 {
    ((total * num + den - 1) / den).max(1)
}

/// Quantiles of a histogram given as `(bin, count)` pairs in any order (bins may
/// repeat, they are merged). `qs` are in `0.0..=1.0`; the answer follows the
/// nearest-rank definition. `None` for an empty histogram.
pub fn quantiles(bins: &[(i32, i64)], qs: &[f64]) -> Option<Vec<f64>> {
    let mut sorted: Vec<(i32, i64)> = bins.iter().copied().filter(|&(_, c)| c > 0).collect();
    sorted.sort_unstable_by_key(|&(b, _)| b);
    let total: i64 = sorted.iter().map(|&(_, c)| c).sum();
    if total == 0 {
        return None;
    }
    let answers = qs
        .iter()
        .map(|&q| {
            let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as i64).max(1);
            let mut seen = 0;
            for &(bin, count) in &sorted {
                seen += count;
                if seen >= rank {
                    return value_of(bin);
                }
            }
            value_of(sorted[sorted.len() - 1].0)
        })
        .collect();
    Some(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    #[test]
    fn every_value_is_within_the_accuracy_of_its_bin() {
        let mut x = 0.002;
        while x < 3_600_000.0 {
            let v = value_of(bin_of(x));
            assert!((v - x).abs() / x <= RELATIVE_ACCURACY + 1e-12, "{x} -> {v}");
            x *= 1.37;
        }
        assert_eq!(value_of(bin_of(0.0)), 0.0);
        assert_eq!(bin_of(f64::NAN), ZERO_BIN);
    }

    #[test]
    fn quantiles_of_merged_bins_are_within_the_accuracy_of_exact() {
        // A skewed latency mix: fast cache hits, normal calls, slow generations.
        let mut values = Vec::new();
        let mut seed = 7u64;
        for i in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            values.push(match i % 10 {
                0 => 2.0 + u * 8.0,
                1..=7 => 150.0 + u * 900.0,
                _ => 2_000.0 + u * u * 40_000.0,
            });
        }
        // Two halves histogrammed apart, then merged (as buckets of a range are).
        let mut bins: Vec<(i32, i64)> = Vec::new();
        for half in values.chunks(10_000) {
            let mut h = std::collections::HashMap::new();
            for &v in half {
                *h.entry(bin_of(v)).or_insert(0i64) += 1;
            }
            bins.extend(h);
        }
        let qs = [0.5, 0.9, 0.95, 0.99, 1.0];
        let got = quantiles(&bins, &qs).unwrap();
        values.sort_by(f64::total_cmp);
        for (q, g) in qs.iter().zip(got) {
            let e = exact(&values, *q);
            assert!(
                (g - e).abs() / e <= RELATIVE_ACCURACY + 1e-12,
                "q{q}: {g} vs {e}"
            );
        }
    }

    #[test]
    fn empty_histograms_have_no_quantiles() {
        assert_eq!(quantiles(&[], &[0.5]), None);
        assert_eq!(quantiles(&[(3, 0)], &[0.5]), None);
        assert_eq!(
            quantiles(&[(bin_of(100.0), 1)], &[0.0, 1.0]).unwrap().len(),
            2
        );
    }
}
