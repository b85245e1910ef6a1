//! Reading the rollups: what the dashboard's cards are made of. Every query here reads
//! one row per bucket (and per model, country, … where the card is per dimension),
//! never the raw request rows. [`spans`] owns which rollup rows cover a range of
//! buckets; [`cards`] owns the card queries themselves.

mod cards;
mod spans;

pub use cards::{
    CountryTotals, LatencyBin, ModelTotals, ModelUsage, QuantileBins, SeverityCount, StatusCount,
    TrafficBucket, UserCost,
};
pub use spans::Buckets;
