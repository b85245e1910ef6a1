//! The model price table: what a request costs when the client does not say.
//! Prices are micro-dollars per million tokens, so costs are exact integers. Sightline
//! ships defaults for common current models; the settings override them.

mod cache;

use std::collections::HashMap;

pub use cache::Prices;

use sightline_app::settings::PriceSource;

/// The price of one model, per million prompt and completion tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelPrice {
    pub prompt_micros_per_mtok: i64,
    pub completion_micros_per_mtok: i64,
}

/// The highest price an admin may set, in USD per million tokens.
pub const MAX_USD_PER_MTOK: f64 = 100_000.0;

impl ModelPrice {
    /// A price typed in USD per million tokens (0 to [`MAX_USD_PER_MTOK`] each).
    pub fn from_usd(prompt: f64, completion: f64) -> Result<ModelPrice, String> {
        let valid = |usd: f64| usd.is_finite() && (0.0..=MAX_USD_PER_MTOK).contains(&usd);
        if !valid(prompt) || !valid(completion) {
            return Err(format!(
                "give prices between 0 and {MAX_USD_PER_MTOK} USD per million tokens"
            ));
        }
        Ok(ModelPrice {
            prompt_micros_per_mtok: (prompt * 1e6).round() as i64,
            completion_micros_per_mtok: (completion * 1e6).round() as i64,
        })
    }
}

/// Every priced model by name: the built-in prices, replaced or extended by those
/// `set` in the settings, each with where it comes from.
pub fn merged_prices(set: Vec<(String, ModelPrice)>) -> Vec<(String, ModelPrice, PriceSource)> {
    let mut models: Vec<(String, ModelPrice, PriceSource)> = DEFAULT_PRICES
        .iter()
        .filter(|(m, _)| !set.iter().any(|(s, _)| s == m))
        .map(|(m, p)| (m.to_string(), *p, PriceSource::BuiltIn))
        .collect();
    models.extend(set.into_iter().map(|(m, p)| (m, p, PriceSource::Set)));
    models.sort_by(|a, b| a.0.cmp(&b.0));
    models
}

const fn usd(prompt: f64, completion: f64) -> ModelPrice {
    ModelPrice {
        prompt_micros_per_mtok: (prompt * 1_000_000.0) as i64,
        completion_micros_per_mtok: (completion * 1_000_000.0) as i64,
    }
}

/// List prices in USD per million tokens (prompt, completion) of common models.
pub const DEFAULT_PRICES: &[(&str, ModelPrice)] = &[
    ("gpt-5", usd(1.25, 10.0)),
    ("gpt-5-mini", usd(0.25, 2.0)),
    ("gpt-5-nano", usd(0.05, 0.40)),
    ("gpt-4.1", usd(2.0, 8.0)),
    ("gpt-4.1-mini", usd(0.40, 1.60)),
    ("gpt-4.1-nano", usd(0.10, 0.40)),
    ("gpt-4o", usd(2.50, 10.0)),
    ("gpt-4o-mini", usd(0.15, 0.60)),
    ("o3", usd(2.0, 8.0)),
    ("o4-mini", usd(1.10, 4.40)),
    ("text-embedding-3-small", usd(0.02, 0.0)),
    ("text-embedding-3-large", usd(0.13, 0.0)),
    ("claude-opus-4", usd(15.0, 75.0)),
    ("claude-sonnet-4", usd(3.0, 15.0)),
    ("claude-sonnet-4-5", usd(3.0, 15.0)),
    ("claude-haiku-4-5", usd(1.0, 5.0)),
    ("claude-3-5-sonnet", usd(3.0, 15.0)),
    ("claude-3-5-haiku", usd(0.80, 4.0)),
    ("gemini-2.5-pro", usd(1.25, 10.0)),
    ("gemini-2.5-flash", usd(0.30, 2.50)),
    ("gemini-2.0-flash", usd(0.10, 0.40)),
    ("gemini-1.5-pro", usd(1.25, 5.0)),
    ("gemini-1.5-flash", usd(0.075, 0.30)),
    ("llama-3.1-70b", usd(0.88, 0.88)),
    ("llama-3.1-8b", usd(0.18, 0.18)),
    ("mistral-large", usd(2.0, 6.0)),
    ("mistral-small", usd(0.20, 0.60)),
    ("deepseek-chat", usd(0.27, 1.10)),
];

/// Prices by model name.
#[derive(Clone, Debug, Default)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// The built-in prices.
    pub fn defaults() -> PriceTable {
        PriceTable {
            prices: DEFAULT_PRICES
                .iter()
                .map(|(m, p)| (m.to_string(), *p))
                .collect(),
        }
    }

    /// Sets (or replaces) the price of `model`.
    pub fn set(&mut self, model: &str, price: ModelPrice) {
        self.prices.insert(model.to_string(), price);
    }

    /// The price of `model`: its own, else that of the longest known name it extends
    /// with a dash (`gpt-4o-2024-08-06` is priced as `gpt-4o`).
    pub fn get(&self, model: &str) -> Option<ModelPrice> {
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        self.prices
            .iter()
            .filter(|(name, _)| {
                model.len() > name.len()
                    && model.starts_with(name.as_str())
                    && model.as_bytes()[name.len()] == b'-'
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| *p)
    }

    /// The cost of a request in micro-dollars, rounded to the nearest; `None` for an unknown model.
    pub fn cost_micros(
        &self,
        model: &str,
        prompt_tokens: i64,
        completion_tokens: i64,
    ) -> Option<i64> {
        let p = self.get(model)?;
        let micro_millionths = i128::from(prompt_tokens) * i128::from(p.prompt_micros_per_mtok)
            + i128::from(completion_tokens) * i128::from(p.completion_micros_per_mtok);
        // Saturating: within the ingest bounds (10^9 tokens, 100 000 USD per million)
        // a cost is at most 2·10^14 micro-dollars; beyond, never a wrapped value.
        Some(i64::try_from((micro_millionths + 500_000) / 1_000_000).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_exact_micro_dollars() {
        let t = PriceTable::defaults();
        // 1 000 prompt tokens at $2.50/M and 500 completion tokens at $10/M = $0.0075.
        assert_eq!(t.cost_micros("gpt-4o", 1_000, 500), Some(7_500));
        // 1 token of gpt-4o-mini: $0.00000015 prompt rounds to 0 µ$; 4 tokens to 1 µ$.
        assert_eq!(t.cost_micros("gpt-4o-mini", 1, 0), Some(0));
        assert_eq!(t.cost_micros("gpt-4o-mini", 4, 0), Some(1));
        assert_eq!(t.cost_micros("no-such-model", 10, 10), None);
    }

    #[test]
    fn set_prices_replace_or_extend_the_built_in_ones() {
        let merged = merged_prices(vec![
            ("gpt-4o".into(), usd(1.0, 2.0)),
            ("zz-custom".into(), usd(0.5, 0.5)),
        ]);
        assert_eq!(merged.len(), DEFAULT_PRICES.len() + 1);
        let find = |name: &str| merged.iter().find(|(m, _, _)| m == name).cloned();
        assert_eq!(
            find("gpt-4o"),
            Some(("gpt-4o".into(), usd(1.0, 2.0), PriceSource::Set))
        );
        assert_eq!(find("o3").map(|r| r.2), Some(PriceSource::BuiltIn));
        assert_eq!(merged.last().map(|r| r.0.as_str()), Some("zz-custom"));
        assert!(merged.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn typed_prices_are_bounded() {
        assert_eq!(ModelPrice::from_usd(2.5, 10.0), Ok(usd(2.5, 10.0)));
        assert_eq!(
            ModelPrice::from_usd(0.0, 100_000.0).map(|p| p.completion_micros_per_mtok),
            Ok(100_000_000_000)
        );
        for (p, c) in [
            (-1.0, 1.0),
            (1.0, 100_000.5),
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
        ] {
            assert!(ModelPrice::from_usd(p, c).is_err());
        }
    }

    #[test]
    fn dated_variants_take_the_price_of_their_family() {
        let t = PriceTable::defaults();
        assert_eq!(t.get("gpt-4o-2024-08-06"), t.get("gpt-4o"));
        assert_eq!(t.get("gpt-4o-mini-2024-07-18"), t.get("gpt-4o-mini"));
        assert_eq!(t.get("gpt-4ox"), None);
        let mut custom = PriceTable::defaults();
        custom.set("gpt-4o", usd(1.0, 1.0));
        assert_eq!(custom.cost_micros("gpt-4o", 1_000_000, 0), Some(1_000_000));
    }
}
