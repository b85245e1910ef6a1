//! The price table in force: the built-in prices with the overrides of the settings,
//! cached for the ingest path.

use std::sync::Arc;
use std::time::Duration;

use super::PriceTable;
use crate::cached::Cached;
use crate::store::Store;

/// The price table, with the overrides of the settings; re-read every 30 seconds, and
/// at once after a change made through this process (other replicas catch up within
/// the 30 seconds).
pub struct Prices {
    store: Store,
    table: Cached<PriceTable>,
}

const PRICES_TTL: Duration = Duration::from_secs(sightline_app::settings::PRICES_REFRESH_SECONDS);

impl Prices {
    pub fn new(store: Store) -> Prices {
        Prices {
            store,
            table: Cached::new(PRICES_TTL, PriceTable::defaults()),
        }
    }

    /// Forgets the cached table: the next batch reads the prices again.
    pub fn invalidate(&self) {
        self.table.invalidate();
    }

    pub async fn current(&self) -> Arc<PriceTable> {
        self.table
            .get(|| async {
                let mut table = PriceTable::defaults();
                match self.store.model_prices().await {
                    Ok(overrides) => {
                        for (model, price) in overrides {
                            table.set(&model, price);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read model prices; using the defaults")
                    }
                }
                table
            })
            .await
    }
}
