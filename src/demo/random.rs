//! The demo's source of randomness: seeded, so a demo can be reproduced, with the few
//! distributions realistic traffic needs.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::catalog::pick;

pub struct Dice {
    rng: StdRng,
}

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Uniform in `[0, 1)`.
    pub fn u(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.u() < p
    }

    /// Uniform integer in `lo..hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..hi)
    }

    pub fn normal(&mut self) -> f64 {
        // Box–Muller; 1 - u keeps the logarithm finite.
        let (u1, u2) = (1.0 - self.u(), self.u());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and log-space spread.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.u()).ln()
    }

    pub fn pick<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let u = self.u();
        pick(items, u)
    }

    pub fn hex(&mut self, digits: usize) -> String {
        (0..digits)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    /// A UUIDv7 for instant `t` (epoch ms) with seeded random bits.
    pub fn uuid_v7(&mut self, t: i64) -> String {
        let bytes: [u8; 10] = self.rng.random();
        uuid::Builder::from_unix_timestamp_millis(t.max(0) as u64, &bytes)
            .into_uuid()
            .to_string()
    }

    /// A public-looking IPv4 address (no private or reserved first octet).
    pub fn public_ip(&mut self) -> String {
        let first = loop {
            let o = self.rng.random_range(1..224u8);
            if ![10, 100, 127, 169, 172, 192, 198, 203].contains(&o) {
                break o;
            }
        };
        format!(
            "{first}.{}.{}.{}",
            self.rng.random::<u8>(),
            self.rng.random::<u8>(),
            self.rng.random_range(1..255u8)
        )
    }
}
