use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::user_sessions::load_user;
use crate::components::card::ErrorState;
use crate::format::{compact_count, instant, money_exact, percent};
use crate::pages::request_detail::clean_error;
use crate::pages::sessions::SessionRows;
use crate::query::href;
use crate::users::{USER_SESSIONS, UserDetail, error_rate};

/// `/users/:id`: one platform user's totals and latest sessions, with links to all of
/// their requests and sessions.
#[component]
pub fn UserDetailPage() -> impl IntoView {
    let params = use_params_map();
    let user_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let detail = Resource::new(move || user_id.get(), load_user);

    view! {
        <div class="page-head">
            <h1>"User"</h1>
            <a href="/users" class="back">"← All users"</a>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading the user…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail detail=d /> }.into_any(),
                    Err(e) => view! {
                        <section class="card"><ErrorState message=clean_error(&e.to_string()) /></section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(detail: UserDetail) -> impl IntoView {
    let UserDetail {
        user: u,
        providers,
        sessions,
    } = detail;
    let provider_calls = href(
        "/requests",
        &[
            ("user", Some(&u.user_id)),
            ("kind", Some("external")),
            ("range", Some("all")),
        ],
    );
    let all_requests = href(
        "/requests",
        &[("user", Some(&u.user_id)), ("range", Some("all"))],
    );
    let all_sessions = href(
        "/sessions",
        &[("user", Some(&u.user_id)), ("range", Some("all"))],
    );
    let rate = percent(error_rate(u.errors, u.requests));
    view! {
        <section class="card" data-testid="user-detail" aria-label="Totals">
            <h2 class="card-title mono" data-testid="user-id">{u.user_id.clone()}</h2>
            <dl class="fields">
                <dt>"First seen"</dt>
                <dd data-testid="user-first-seen">{instant(u.first_seen_at)}</dd>
                <dt>"Last seen"</dt>
                <dd data-testid="user-last-seen">{instant(u.last_seen_at)}</dd>
                <dt>"Requests"</dt>
                <dd data-testid="user-requests">{compact_count(u.requests)}</dd>
                <dt>"Errors"</dt>
                <dd data-testid="user-errors">{format!("{} ({rate})", compact_count(u.errors))}</dd>
                <dt>"Tokens"</dt>
                <dd data-testid="user-tokens">{compact_count(u.tokens)}</dd>
                <dt>"Own API cost"</dt>
                <dd data-testid="user-cost">{money_exact(u.cost_micros)}</dd>
                <dt>"Provider cost"</dt>
                <dd data-testid="user-provider-cost">
                    {format!("{} ({} calls)", money_exact(u.provider_cost_micros), compact_count(u.provider_calls))}
                </dd>
            </dl>
            <p class="muted small">
                "Provider cost counts the calls to providers that carry this user's id (tracker, gateway or OTLP); an OTLP request's own cost already includes its GenAI spans, so the two are shown apart, not added."
            </p>
            <p class="links">
                <A href=all_requests attr:data-testid="user-all-requests">"All requests"</A>
                " · "
                <A href=all_sessions attr:data-testid="user-all-sessions">"All sessions"</A>
                " · "
                <A href=provider_calls attr:data-testid="user-provider-calls">"Provider calls"</A>
            </p>
        </section>
        {(!providers.is_empty()).then(|| view! {
            <section class="card table-card" data-testid="user-providers" aria-label="Provider cost by provider">
                <h2 class="card-title">"Provider cost by provider"</h2>
                <div class="table-scroll">
                    <table class="table">
                        <thead><tr><th scope="col">"Provider"</th><th scope="col" class="num">"Calls"</th>
                            <th scope="col" class="num">"Errors"</th><th scope="col" class="num">"Tokens"</th>
                            <th scope="col" class="num">"Cost"</th></tr></thead>
                        <tbody>
                            {providers.into_iter().map(|p| view! {
                                <tr data-testid="user-provider-row" data-service=p.service.clone()>
                                    <th scope="row">{crate::providers::display_name(&p.service)}</th>
                                    <td class="num">{compact_count(p.calls)}</td>
                                    <td class="num">{compact_count(p.errors)}</td>
                                    <td class="num">{compact_count(p.tokens)}</td>
                                    <td class="num">{money_exact(p.cost_micros)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        })}
        <section class="card full table-card" data-testid="user-sessions" aria-label="Latest sessions">
            <h2 class="card-title">{format!("Latest sessions (up to {USER_SESSIONS})")}</h2>
            {if sessions.is_empty() {
                view! { <p class="empty">"No sessions."</p> }.into_any()
            } else {
                view! { <SessionRows rows=sessions /> }.into_any()
            }}
        </section>
    }
}
