//! The model price table: what a request costs when the client does not say.
//! Prices are micro-dollars per million tokens, so costs are exact integers. Sightline
//! ships defaults for common current models; the settings override them.

mod cache;

use std::collections::HashMap;

pub use cache::Prices;

use sightline_app::settings::PriceSource;
pub use sightline_app::settings::UsdPrices;
use sightline_app::units::Micros;

/// The price of one model, in micro-dollars per million tokens of each kind. The cache
/// and reasoning rates are optional: without one, cache reads and writes cost as
/// prompt tokens and reasoning as completion tokens. Its fields are `model_price`'s
/// columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelPrice {
    pub prompt_micros_per_mtok: i64,
    pub completion_micros_per_mtok: i64,
    pub cache_read_micros_per_mtok: Option<i64>,
    pub cache_write_micros_per_mtok: Option<i64>,
    pub reasoning_micros_per_mtok: Option<i64>,
}

/// The highest price an admin may set, in USD per million tokens.
pub const MAX_USD_PER_MTOK: f64 = 100_000.0;

/// A typed price out of bounds: which of the token kinds' prices, and what was typed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the {kind} price must be between 0 and {} USD per million tokens (got {got})",
    MAX_USD_PER_MTOK
)]
pub struct InvalidPrice {
    pub kind: &'static str,
    pub got: f64,
}

impl ModelPrice {
    /// A price typed in USD per million tokens (0 to [`MAX_USD_PER_MTOK`] each).
    pub fn from_usd(usd: UsdPrices) -> Result<ModelPrice, InvalidPrice> {
        let micros = |kind: &'static str, got: f64| {
            if got.is_finite() && (0.0..=MAX_USD_PER_MTOK).contains(&got) {
                Ok((got * 1e6).round() as i64)
            } else {
                Err(InvalidPrice { kind, got })
            }
        };
        let optional = |kind, v: Option<f64>| v.map(|v| micros(kind, v)).transpose();
        Ok(ModelPrice {
            prompt_micros_per_mtok: micros("prompt", usd.prompt)?,
            completion_micros_per_mtok: micros("completion", usd.completion)?,
            cache_read_micros_per_mtok: optional("cache read", usd.cache_read)?,
            cache_write_micros_per_mtok: optional("cache write", usd.cache_write)?,
            reasoning_micros_per_mtok: optional("reasoning", usd.reasoning)?,
        })
    }

    /// The rates that apply to each kind of token, the optional ones filled in.
    fn rates(&self) -> [i64; 5] {
        let (prompt, completion) = (self.prompt_micros_per_mtok, self.completion_micros_per_mtok);
        [
            prompt,
            completion,
            self.cache_read_micros_per_mtok.unwrap_or(prompt),
            self.cache_write_micros_per_mtok.unwrap_or(prompt),
            self.reasoning_micros_per_mtok.unwrap_or(completion),
        ]
    }
}

/// The tokens of one request, in Sightline's meaning: `prompt` counts every input
/// token (cache reads and writes included), `completion` every output token
/// (reasoning included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub prompt: i64,
    pub completion: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub reasoning: i64,
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

/// USD per million tokens as micro-dollars per million, rounded to the nearest (`round`
/// is not `const`; the prices are positive).
const fn micros(usd: f64) -> i64 {
    (usd * 1_000_000.0 + 0.5) as i64
}

/// A list price in USD per million tokens, prompt and completion only.
const fn usd(prompt: f64, completion: f64) -> ModelPrice {
    ModelPrice {
        prompt_micros_per_mtok: micros(prompt),
        completion_micros_per_mtok: micros(completion),
        cache_read_micros_per_mtok: None,
        cache_write_micros_per_mtok: None,
        reasoning_micros_per_mtok: None,
    }
}

/// A list price with the provider's cache-read rate (OpenAI, DeepSeek: cache writes
/// cost as ordinary input).
const fn cached(prompt: f64, completion: f64, cache_read: f64) -> ModelPrice {
    let mut p = usd(prompt, completion);
    p.cache_read_micros_per_mtok = Some(micros(cache_read));
    p
}

/// An Anthropic list price: 5-minute cache writes at 1.25 times the input rate, cache
/// reads at 0.1 times it.
const fn anthropic(prompt: f64, completion: f64) -> ModelPrice {
    let mut p = usd(prompt, completion);
    p.cache_read_micros_per_mtok = Some(micros(prompt * 0.1));
    p.cache_write_micros_per_mtok = Some(micros(prompt * 1.25));
    p
}

/// List prices in USD per million tokens (prompt, completion and, where the provider
/// publishes one, cached input) of common models.
pub const DEFAULT_PRICES: &[(&str, ModelPrice)] = &[
    ("gpt-5", cached(1.25, 10.0, 0.125)),
    ("gpt-5-mini", cached(0.25, 2.0, 0.025)),
    ("gpt-5-nano", cached(0.05, 0.40, 0.005)),
    ("gpt-4.1", cached(2.0, 8.0, 0.50)),
    ("gpt-4.1-mini", cached(0.40, 1.60, 0.10)),
    ("gpt-4.1-nano", cached(0.10, 0.40, 0.025)),
    ("gpt-4o", cached(2.50, 10.0, 1.25)),
    ("gpt-4o-mini", cached(0.15, 0.60, 0.075)),
    ("o3", cached(2.0, 8.0, 0.50)),
    ("o4-mini", cached(1.10, 4.40, 0.275)),
    ("text-embedding-3-small", usd(0.02, 0.0)),
    ("text-embedding-3-large", usd(0.13, 0.0)),
    ("claude-opus-4", anthropic(15.0, 75.0)),
    ("claude-sonnet-4", anthropic(3.0, 15.0)),
    ("claude-sonnet-4-5", anthropic(3.0, 15.0)),
    ("claude-haiku-4-5", anthropic(1.0, 5.0)),
    ("claude-3-5-sonnet", anthropic(3.0, 15.0)),
    ("claude-3-5-haiku", anthropic(0.80, 4.0)),
    ("gemini-2.5-pro", usd(1.25, 10.0)),
    ("gemini-2.5-flash", usd(0.30, 2.50)),
    ("gemini-2.0-flash", usd(0.10, 0.40)),
    ("gemini-1.5-pro", usd(1.25, 5.0)),
    ("gemini-1.5-flash", usd(0.075, 0.30)),
    ("llama-3.1-70b", usd(0.88, 0.88)),
    ("llama-3.1-8b", usd(0.18, 0.18)),
    ("mistral-large", usd(2.0, 6.0)),
    ("mistral-small", usd(0.20, 0.60)),
    ("deepseek-chat", cached(0.27, 1.10, 0.07)),
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

    /// The cost of a request in micro-dollars, rounded to the nearest; `None` for an
    /// unknown model. Cache reads and writes are taken out of the prompt tokens and
    /// reasoning out of the completion tokens, each priced at its own rate, so no
    /// token is paid twice. The counts must be consistent (as validation makes them:
    /// the parts no larger than their whole).
    pub fn cost_micros(&self, model: &str, t: &TokenCounts) -> Option<Micros> {
        let [prompt, completion, cache_read, cache_write, reasoning] = self.get(model)?.rates();
        let plain_prompt = t.prompt - t.cache_read - t.cache_write;
        let plain_completion = t.completion - t.reasoning;
        let micro_millionths: i128 = [
            (plain_prompt, prompt),
            (t.cache_read, cache_read),
            (t.cache_write, cache_write),
            (plain_completion, completion),
            (t.reasoning, reasoning),
        ]
        .into_iter()
        .map(|(tokens, rate)| i128::from(tokens) * i128::from(rate))
        .sum();
        // Saturating: within the ingest bounds (10^9 tokens, 100 000 USD per million)
        // a cost is at most 2·10^14 micro-dollars; beyond, never a wrapped value.
        Some(Micros(
            i64::try_from((micro_millionths + 500_000) / 1_000_000).unwrap_or(i64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(prompt: i64, completion: i64) -> TokenCounts {
        TokenCounts {
            prompt,
            completion,
            ..TokenCounts::default()
        }
    }

    #[test]
    fn costs_are_exact_micro_dollars() {
        let t = PriceTable::defaults();
        // 1 000 prompt tokens at $2.50/M and 500 completion tokens at $10/M = $0.0075.
        assert_eq!(
            t.cost_micros("gpt-4o", &tokens(1_000, 500)),
            Some(Micros(7_500))
        );
        // 1 token of gpt-4o-mini: $0.00000015 prompt rounds to 0 µ$; 4 tokens to 1 µ$.
        assert_eq!(t.cost_micros("gpt-4o-mini", &tokens(1, 0)), Some(Micros(0)));
        assert_eq!(t.cost_micros("gpt-4o-mini", &tokens(4, 0)), Some(Micros(1)));
        assert_eq!(t.cost_micros("no-such-model", &tokens(10, 10)), None);
    }

    #[test]
    fn anthropic_cache_writes_cost_a_quarter_more_and_reads_a_tenth() {
        // Claude Sonnet 4.5 lists $3 input, $3.75 5-minute cache writes, $0.30 cache
        // hits and $15 output per million tokens. Anthropic reports input_tokens 100,
        // cache_creation_input_tokens 2 000, cache_read_input_tokens 10 000 and
        // output_tokens 500: Sightline's prompt_tokens is their sum, 12 100.
        let t = PriceTable::defaults();
        let p = t.get("claude-sonnet-4-5-20250929").unwrap();
        assert_eq!(
            (p.cache_write_micros_per_mtok, p.cache_read_micros_per_mtok),
            (Some(3_750_000), Some(300_000))
        );
        let usage = TokenCounts {
            prompt: 12_100,
            completion: 500,
            cache_read: 10_000,
            cache_write: 2_000,
            reasoning: 0,
        };
        // 100 × $3 + 2 000 × $3.75 + 10 000 × $0.30 + 500 × $15, per million:
        // $0.0003 + $0.0075 + $0.003 + $0.0075 = $0.0183.
        assert_eq!(
            t.cost_micros("claude-sonnet-4-5-20250929", &usage),
            Some(Micros(18_300))
        );
        // Without the cache the same 12 100 input tokens would have cost $0.0363 + $0.0075.
        assert_eq!(
            t.cost_micros("claude-sonnet-4-5", &tokens(12_100, 500)),
            Some(Micros(43_800))
        );
    }

    #[test]
    fn openai_cached_input_is_priced_at_its_listed_rate_and_reasoning_as_output() {
        let t = PriceTable::defaults();
        // gpt-4o: $2.50 input, $1.25 cached input, $10 output. prompt_tokens 2 000 of
        // which 1 536 cached, completion_tokens 300:
        // 464 × $2.50 + 1 536 × $1.25 + 300 × $10 = $0.00116 + $0.00192 + $0.003.
        let usage = TokenCounts {
            prompt: 2_000,
            completion: 300,
            cache_read: 1_536,
            ..TokenCounts::default()
        };
        assert_eq!(
            t.cost_micros("gpt-4o-2024-08-06", &usage),
            Some(Micros(6_080))
        );
        // o4-mini: $1.10 input, $0.275 cached, $4.40 output; 800 of the 1 000
        // completion tokens are reasoning, billed as output: 1 000 × $4.40 = $0.0044,
        // plus 4 000 × $1.10 + 6 000 × $0.275 = $0.0044 + $0.00165.
        let usage = TokenCounts {
            prompt: 10_000,
            completion: 1_000,
            cache_read: 6_000,
            cache_write: 0,
            reasoning: 800,
        };
        assert_eq!(t.cost_micros("o4-mini", &usage), Some(Micros(10_450)));
    }

    #[test]
    fn a_reasoning_price_applies_when_one_is_set() {
        let mut t = PriceTable::default();
        let price = ModelPrice::from_usd(UsdPrices {
            prompt: 1.0,
            completion: 4.0,
            reasoning: Some(8.0),
            ..UsdPrices::default()
        })
        .unwrap();
        t.set("thinker", price);
        let usage = TokenCounts {
            prompt: 1_000,
            completion: 1_000,
            reasoning: 250,
            ..TokenCounts::default()
        };
        // 1 000 × $1 + 750 × $4 + 250 × $8 = $0.001 + $0.003 + $0.002.
        assert_eq!(t.cost_micros("thinker", &usage), Some(Micros(6_000)));
        // Cache rates default to the prompt rate when none is given.
        let usage = TokenCounts {
            prompt: 1_000,
            cache_read: 400,
            cache_write: 100,
            ..TokenCounts::default()
        };
        assert_eq!(t.cost_micros("thinker", &usage), Some(Micros(1_000)));
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
        let typed = |prompt, completion| {
            ModelPrice::from_usd(UsdPrices {
                prompt,
                completion,
                ..UsdPrices::default()
            })
        };
        assert_eq!(typed(2.5, 10.0), Ok(usd(2.5, 10.0)));
        assert_eq!(
            typed(0.0, 100_000.0).map(|p| p.completion_micros_per_mtok),
            Ok(100_000_000_000)
        );
        for (p, c) in [
            (-1.0, 1.0),
            (1.0, 100_000.5),
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
        ] {
            assert!(typed(p, c).is_err());
        }
        assert_eq!(
            ModelPrice::from_usd(UsdPrices {
                prompt: 1.0,
                completion: 1.0,
                cache_write: Some(-0.1),
                ..UsdPrices::default()
            })
            .map_err(|e| e.to_string()),
            Err("the cache write price must be between 0 and 100000 USD per million tokens (got -0.1)".into())
        );
    }

    #[test]
    fn built_in_rates_are_the_listed_ones_to_the_micro_dollar() {
        let t = PriceTable::defaults();
        let rate = |m: &str| {
            let p = t.get(m).unwrap();
            (
                p.prompt_micros_per_mtok,
                p.cache_read_micros_per_mtok,
                p.cache_write_micros_per_mtok,
            )
        };
        assert_eq!(rate("gpt-4o-mini"), (150_000, Some(75_000), None));
        assert_eq!(rate("o4-mini"), (1_100_000, Some(275_000), None));
        assert_eq!(
            rate("claude-3-5-haiku"),
            (800_000, Some(80_000), Some(1_000_000))
        );
        assert_eq!(
            rate("claude-opus-4"),
            (15_000_000, Some(1_500_000), Some(18_750_000))
        );
        assert_eq!(rate("deepseek-chat"), (270_000, Some(70_000), None));
    }

    #[test]
    fn dated_variants_take_the_price_of_their_family() {
        let t = PriceTable::defaults();
        assert_eq!(t.get("gpt-4o-2024-08-06"), t.get("gpt-4o"));
        assert_eq!(t.get("gpt-4o-mini-2024-07-18"), t.get("gpt-4o-mini"));
        assert_eq!(t.get("gpt-4ox"), None);
        let mut custom = PriceTable::defaults();
        custom.set("gpt-4o", usd(1.0, 1.0));
        assert_eq!(
            custom.cost_micros("gpt-4o", &tokens(1_000_000, 0)),
            Some(Micros(1_000_000))
        );
    }
}
