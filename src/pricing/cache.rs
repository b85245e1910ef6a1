//! The price table in force: the built-in prices with the overrides of the settings,
//! cached for the ingest path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::PriceTable;
use crate::store::Store;

/// The price table, with the overrides of the settings; re-read every 30 seconds, and
/// at once after a change made through this process (other replicas catch up within
/// the 30 seconds).
pub struct Prices {
    store: Store,
    /// When the table was read, and the [`Prices::invalidate`] generation it was read in.
    cached: RwLock<(Instant, u64, Arc<PriceTable>)>,
    generation: AtomicU64,
}

const PRICES_TTL: Duration = Duration::from_secs(sightline_app::settings::PRICES_REFRESH_SECONDS);

impl Prices {
    pub fn new(store: Store) -> Prices {
        let stale = Instant::now()
            .checked_sub(PRICES_TTL * 2)
            .unwrap_or_else(Instant::now);
        Prices {
            store,
            cached: RwLock::new((stale, 0, Arc::new(PriceTable::defaults()))),
            generation: AtomicU64::new(0),
        }
    }

    /// Forgets the cached table: the next batch reads the prices again. A read that was
    /// under way when this is called is not kept, so it cannot bring back the old prices.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub async fn current(&self) -> Arc<PriceTable> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Ok(c) = self.cached.read()
            && c.0.elapsed() < PRICES_TTL
            && c.1 == generation
        {
            return c.2.clone();
        }
        let mut table = PriceTable::defaults();
        match self.store.model_prices().await {
            Ok(overrides) => {
                for (model, price) in overrides {
                    table.set(&model, price);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read model prices; using the defaults"),
        }
        let table = Arc::new(table);
        if let Ok(mut c) = self.cached.write() {
            *c = (Instant::now(), generation, table.clone());
        }
        table
    }
}
