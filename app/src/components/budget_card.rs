//! The dashboard's budgets card: today's and this month's spending against the global
//! budgets, and the platform's users nearest to (or past) their own.

use leptos::prelude::*;

use crate::budgets::{BudgetUse, BudgetsCard, UsersAgainstBudget};
use crate::components::card::Card;
use crate::format::money;

/// `ok`, `warn` (80% or more) or `over` (100% or more): the bar's colour, never the
/// only cue (the percentage is written beside it).
fn level(u: &BudgetUse) -> &'static str {
    match u.reached() {
        Some(100) => "over",
        Some(_) => "warn",
        None => "ok",
    }
}

/// "Today" or "This month".
fn period_title(u: &BudgetUse) -> String {
    let p = u.period.current();
    format!("{}{}", p[..1].to_uppercase(), &p[1..])
}

/// One budget's bar, with what is spent of it.
#[component]
fn BudgetBar(used: BudgetUse) -> impl IntoView {
    let percent = used.percent();
    let width = percent.clamp(0.0, 100.0);
    let label = format!("{} budget spent", used.period.as_str());
    view! {
        <div class="budget-row" data-testid=format!("budget-{}", used.period.as_str())>
            <div class="budget-head">
                <span class="tile-label">{period_title(&used)}</span>
                <span data-testid="budget-spent" title=used.spent_micros.to_string()>
                    {format!("{} of {}", money(used.spent_micros), money(used.limit_micros))}
                </span>
                <span class=format!("budget-percent {}", level(&used)) data-testid="budget-percent">
                    {format!("{percent:.0}%")}
                </span>
            </div>
            <span class="bar" role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=format!("{width:.0}")>
                <span class=format!("bar-fill budget-{}", level(&used)) style=format!("width:{width:.1}%")></span>
            </span>
        </div>
    }
}

fn users_line(u: &UsersAgainstBudget) -> String {
    let each = u
        .each_user_micros
        .map(|m| format!("{} each", money(m)))
        .unwrap_or_else(|| "users' own".to_owned());
    format!(
        "Per-user {} budget ({each}): {} at 80% or more, {} over",
        u.period.as_str(),
        u.warned,
        u.over
    )
}

#[component]
pub fn BudgetsCardView(card: BudgetsCard) -> impl IntoView {
    let none = card.global.is_empty() && card.per_user.is_empty();
    view! {
        <Card title="Budgets" class="full" test_id="card-budgets">
            {if none {
                view! {
                    <p class="empty">"No budget set. Admins set daily and monthly budgets in "
                        <a href="/settings#budgets">"Settings"</a>"."</p>
                }.into_any()
            } else {
                view! {
                    <div class="budgets">
                        {card.global.into_iter().map(|used| view! { <BudgetBar used /> }).collect_view()}
                    </div>
                    {card.per_user.iter().map(|u| view! {
                        <p class="muted small" data-testid=format!("budget-users-{}", u.period.as_str())>{users_line(u)}</p>
                    }).collect_view()}
                    {(!card.top_users.is_empty()).then(|| view! {
                        <div class="table-scroll"><table class="table" data-testid="budget-users-table">
                            <caption class="sr-only">"Users at 80% or more of a budget"</caption>
                            <thead><tr><th scope="col">"User"</th><th scope="col">"Budget"</th>
                                <th scope="col" class="num">"Spent"</th></tr></thead>
                            <tbody>
                                {card.top_users.iter().map(|u| view! {
                                    <tr data-testid="budget-user-row">
                                        <th scope="row" class="ellipsis">{u.user_id.clone().unwrap_or_default()}</th>
                                        <td>{format!("{} {}", money(u.limit_micros), u.period.as_str())}</td>
                                        <td class=format!("num budget-percent {}", level(u)) title=u.spent_micros.to_string()>
                                            {format!("{} ({:.0}%)", money(u.spent_micros), u.percent())}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    })}
                }.into_any()
            }}
        </Card>
    }
}
