use leptos::prelude::*;

use super::{confirmed, outcome};
use crate::api::settings::{
    RemoveUserBudget, ResetBudgets, SetBudgets, SetUserBudget, load_budgets,
};
use crate::budgets::{BudgetSettings, MAX_USER_BUDGETS, Period, Scope, SharedBudget};
use crate::components::table_card::Loaded;
use crate::format::money_exact;
use crate::units::Micros;

/// A limit as a form's number: `12.5` for $12.50; empty for none.
fn usd_input(limit: Option<Micros>) -> String {
    limit.map(|m| m.usd().to_string()).unwrap_or_default()
}

/// A limit as text: `$12.50`, or "none".
fn usd_text(limit: Option<Micros>) -> String {
    limit.map_or_else(|| "none".to_owned(), money_exact)
}

/// Spending budgets: the platform's and each user's per day and month, and users'
/// own; they alert at 80% and 100% (dashboard, `/api/v1/alerts`, webhooks).
#[component]
pub fn BudgetsSection(admin: bool) -> impl IntoView {
    let set = ServerAction::<SetBudgets>::new();
    let reset = ServerAction::<ResetBudgets>::new();
    let set_user = ServerAction::<SetUserBudget>::new();
    let remove_user = ServerAction::<RemoveUserBudget>::new();
    let budgets = Resource::new(
        move || {
            (
                set.version().get(),
                reset.version().get(),
                set_user.version().get(),
                remove_user.version().get(),
            )
        },
        |_| load_budgets(),
    );
    view! {
        <section class="card full settings-section" id="budgets" data-testid="settings-budgets" aria-label="Budgets">
            <h2 class="card-title">"Budgets"</h2>
            <p class="muted">
                "What the served requests may cost (the dashboard's cost) per UTC day and per calendar month, \
                 for the whole platform and for each of its users. At 80% and at 100% of a budget an alert \
                 fires once for the period: on the dashboard, in /api/v1/alerts and to the webhooks."
            </p>
            <Loaded loading="Loading budgets…" resource=budgets
                render={move |b| view! { <BudgetsState b admin set reset set_user remove_user /> }} />
            {outcome(set.value(), |_| Some("Budgets saved.".to_owned()), "budgets-message")}
            {outcome(reset.value(), |_| Some("Back to the environment's budgets.".to_owned()), "budgets-reset-message")}
            {outcome(set_user.value(), |_| Some("User budget saved.".to_owned()), "user-budget-message")}
            {outcome(remove_user.value(), |_| Some("User budget removed.".to_owned()), "user-budget-removed")}
        </section>
    }
}

fn shared(b: &BudgetSettings, scope: Scope, period: Period) -> Option<&SharedBudget> {
    b.shared
        .iter()
        .find(|s| s.scope == scope && s.period == period)
}

fn source(s: &SharedBudget) -> &'static str {
    match (s.set_here, s.environment_micros.is_some()) {
        (true, _) => "set here",
        (false, true) => "from the environment",
        (false, false) => "",
    }
}

#[component]
fn BudgetsState(
    b: BudgetSettings,
    admin: bool,
    set: ServerAction<SetBudgets>,
    reset: ServerAction<ResetBudgets>,
    set_user: ServerAction<SetUserBudget>,
    remove_user: ServerAction<RemoveUserBudget>,
) -> impl IntoView {
    let rows = [
        (Scope::Global, Period::Daily, "Platform, per day", "daily"),
        (
            Scope::Global,
            Period::Monthly,
            "Platform, per month",
            "monthly",
        ),
        (
            Scope::EachUser,
            Period::Daily,
            "Each user, per day",
            "user_daily",
        ),
        (
            Scope::EachUser,
            Period::Monthly,
            "Each user, per month",
            "user_monthly",
        ),
    ];
    let any_set_here = b.shared.iter().any(|s| s.set_here);
    let table = view! {
        <div class="table-scroll">
            <table class="table" data-testid="budgets-table">
                <thead><tr><th scope="col">"Budget"</th><th scope="col" class="num">"Limit"</th><th scope="col">"Source"</th></tr></thead>
                <tbody>
                    {rows.iter().map(|(scope, period, label, name)| {
                        let s = shared(&b, *scope, *period).cloned();
                        view! {
                            <tr data-testid="budget-row" data-budget=*name>
                                <th scope="row">{*label}</th>
                                <td class="num" data-testid="budget-limit">{usd_text(s.as_ref().and_then(|s| s.limit_micros))}</td>
                                <td class="muted">{s.as_ref().map(source).unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    };
    let form = admin.then(|| {
        let inputs = rows
            .iter()
            .map(|(scope, period, label, name)| {
                let value = usd_input(shared(&b, *scope, *period).and_then(|s| s.limit_micros));
                view! {
                    <label>
                        {format!("{label} (USD)")}
                        <input type="number" name=*name min="0.01" max="10000000" step="any"
                            placeholder="none" value=value data-testid=format!("budget-{}", name.replace('_', "-")) />
                    </label>
                }
            })
            .collect_view();
        view! {
            <ActionForm action=set attr:class="settings-form" attr:data-testid="set-budgets-form">
                {inputs}
                <button class="button primary" type="submit" data-testid="set-budgets"
                    disabled=move || set.pending().get()>"Save budgets"</button>
                {any_set_here.then(|| view! {
                    <button class="button" type="button" data-testid="reset-budgets"
                        disabled=move || reset.pending().get()
                        on:click=move |_| {
                            if confirmed("Use the budgets of SIGHTLINE_BUDGET_* again?") {
                                reset.dispatch(ResetBudgets {});
                            }
                        }>"Use the environment's"</button>
                })}
            </ActionForm>
            <p class="muted small">"Empty: no budget, even if SIGHTLINE_BUDGET_* sets one."</p>
        }
    });
    let users = b.users.clone();
    let user_form = admin.then(|| view! {
        <h3>"Users' own budgets"</h3>
        <ActionForm action=set_user attr:class="settings-form" attr:data-testid="set-user-budget-form">
            <label>
                "User id"
                <input type="text" name="user_id" required maxlength="256" placeholder="user-42"
                    data-testid="user-budget-id" />
            </label>
            <label>
                "Per day (USD)"
                <input type="number" name="daily" min="0.01" max="10000000" step="any"
                    placeholder="each user's" data-testid="user-budget-daily" />
            </label>
            <label>
                "Per month (USD)"
                <input type="number" name="monthly" min="0.01" max="10000000" step="any"
                    placeholder="each user's" data-testid="user-budget-monthly" />
            </label>
            <button class="button primary" type="submit" data-testid="set-user-budget"
                disabled=move || set_user.pending().get()>"Set user budget"</button>
        </ActionForm>
        <p class="muted small">{format!(
            "A user's own budget replaces each user's for its period; up to {MAX_USER_BUDGETS} users."
        )}</p>
    });
    view! {
        {table}
        {form}
        {user_form}
        {(!users.is_empty()).then(|| view! {
            <div class="table-scroll">
                <table class="table" data-testid="user-budgets-table">
                    <thead><tr><th scope="col">"User"</th><th scope="col" class="num">"Per day"</th>
                        <th scope="col" class="num">"Per month"</th>
                        {admin.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}</tr></thead>
                    <tbody>
                        {users.into_iter().map(|u| {
                            let id = u.user_id.clone();
                            let remove_now = move |_| {
                                if confirmed(&format!("Remove the budget of {id}?")) {
                                    remove_user.dispatch(RemoveUserBudget { user_id: id.clone() });
                                }
                            };
                            view! {
                                <tr data-testid="user-budget-row" data-user=u.user_id.clone()>
                                    <th scope="row" class="ellipsis">{u.user_id.clone()}</th>
                                    <td class="num">{u.limits.daily_micros.map_or_else(|| "each user's".to_owned(), money_exact)}</td>
                                    <td class="num">{u.limits.monthly_micros.map_or_else(|| "each user's".to_owned(), money_exact)}</td>
                                    {admin.then(|| view! {
                                        <td><button class="button small" data-testid="remove-user-budget"
                                            disabled=move || remove_user.pending().get()
                                            on:click=remove_now>"Remove"</button></td>
                                    })}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}
