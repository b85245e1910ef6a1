use leptos::prelude::*;

use super::{confirmed, outcome};
use crate::api::settings::{ResetPrice, SetPrice, load_prices};
use crate::components::table_card::Loaded;
use crate::format::money_exact;
use crate::settings::{PRICES_REFRESH_SECONDS, PriceRow, PriceSource};
use crate::units::Micros;

/// The model price table (built-in and set prices), used for requests that do not
/// report their cost; admins set and reset prices.
#[component]
pub fn PricesSection(admin: bool) -> impl IntoView {
    let set = ServerAction::<SetPrice>::new();
    let reset = ServerAction::<ResetPrice>::new();
    let prices = Resource::new(
        move || (set.version().get(), reset.version().get()),
        |_| load_prices(),
    );
    view! {
        <section class="card full settings-section" data-testid="settings-prices" aria-label="Model prices">
            <h2 class="card-title">"Model prices"</h2>
            <p class="muted" data-testid="prices-note">
                {format!(
                    "USD per million tokens, for requests that do not report their cost; cache reads and \
                     writes and reasoning tokens cost as prompt and completion tokens unless the model \
                     has a rate for them. A new price \
                     applies to requests ingested from now on (on other replicas of Sightline within \
                     {PRICES_REFRESH_SECONDS} seconds, as they re-read the table); costs already recorded \
                     do not change."
                )}
            </p>
            {admin.then(|| view! {
                <ActionForm action=set attr:class="settings-form" attr:data-testid="set-price-form">
                    <label>
                        "Model"
                        <input type="text" name="model" required maxlength="200" placeholder="gpt-4o"
                            data-testid="price-model" />
                    </label>
                    <label>
                        "Prompt $/1M"
                        <input type="number" name="prompt" required min="0" max="100000" step="any"
                            data-testid="price-prompt" />
                    </label>
                    <label>
                        "Completion $/1M"
                        <input type="number" name="completion" required min="0" max="100000" step="any"
                            data-testid="price-completion" />
                    </label>
                    <OptionalRate label="Cache read $/1M" name="cache_read" falls_back_to="prompt" />
                    <OptionalRate label="Cache write $/1M" name="cache_write" falls_back_to="prompt" />
                    <OptionalRate label="Reasoning $/1M" name="reasoning" falls_back_to="completion" />
                    <button class="button primary" type="submit" data-testid="set-price"
                        disabled=move || set.pending().get()>"Set price"</button>
                </ActionForm>
            })}
            {outcome(set.value(), |_| Some("Price set.".to_owned()), "price-message")}
            {outcome(reset.value(), |_| Some("Back to the built-in price, if any.".to_owned()), "reset-message")}
            <Loaded loading="Loading prices…" resource=prices
                render={move |rows| view! { <PriceTable rows admin reset /> }} />
        </section>
    }
}

#[component]
fn PriceTable(rows: Vec<PriceRow>, admin: bool, reset: ServerAction<ResetPrice>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="prices-table">
                <thead>
                    <tr>
                        <th>"Model"</th>
                        <th class="num">"Prompt $/1M"</th>
                        <th class="num">"Completion $/1M"</th>
                        <th class="num">"Cache read $/1M"</th>
                        <th class="num">"Cache write $/1M"</th>
                        <th class="num">"Reasoning $/1M"</th>
                        <th>"Source"</th>
                        {admin.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|p| {
                        let is_set = p.source == PriceSource::Set;
                        let model = p.model.clone();
                        let data_model = p.model.clone();
                        let reset_now = move |_| {
                            if confirmed(&format!("Reset the price of {model}?")) {
                                reset.dispatch(ResetPrice { model: model.clone() });
                            }
                        };
                        view! {
                            <tr data-testid="price-row" data-model=data_model>
                                <td class="mono">{p.model}</td>
                                <td class="num" data-testid="price-prompt-value">{money_exact(p.prompt_micros_per_mtok)}</td>
                                <td class="num" data-testid="price-completion-value">{money_exact(p.completion_micros_per_mtok)}</td>
                                <td class="num" data-testid="price-cache-read-value">{or_rate(p.cache_read_micros_per_mtok, p.prompt_micros_per_mtok)}</td>
                                <td class="num" data-testid="price-cache-write-value">{or_rate(p.cache_write_micros_per_mtok, p.prompt_micros_per_mtok)}</td>
                                <td class="num" data-testid="price-reasoning-value">{or_rate(p.reasoning_micros_per_mtok, p.completion_micros_per_mtok)}</td>
                                <td data-testid="price-source">{p.source.as_str()}</td>
                                {admin.then(|| view! {
                                    <td>
                                        {is_set.then(|| view! {
                                            <button class="button small" data-testid="reset-price"
                                                disabled=move || reset.pending().get()
                                                on:click=reset_now>"Reset"</button>
                                        })}
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// An optional rate of the price form; left empty, the `falls_back_to` rate applies.
#[component]
fn OptionalRate(
    label: &'static str,
    name: &'static str,
    falls_back_to: &'static str,
) -> impl IntoView {
    view! {
        <label title=format!("Empty: priced as {falls_back_to} tokens")>
            {label}
            <input type="number" name=name min="0" max="100000" step="any"
                placeholder=format!("= {falls_back_to}") data-testid=format!("price-{}", name.replace('_', "-")) />
        </label>
    }
}

/// A rate of its own, or the one that applies in its place, in parentheses and muted.
fn or_rate(own: Option<Micros>, fallback: Micros) -> AnyView {
    match own {
        Some(rate) => money_exact(rate).into_any(),
        None => view! { <span class="muted" title="no rate of its own">{format!("({})", money_exact(fallback))}</span> }
            .into_any(),
    }
}
