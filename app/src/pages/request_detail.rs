use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::requests::{RateRequest, load_request};
use crate::components::card::ErrorState;
use crate::format::{compact_count, duration, instant, instant_precise, millis, money_exact};
use crate::query::href;
use crate::requests::{
    FeedbackEntry, MAX_COMMENT_CHARS, RequestDetail, RequestRecord, SessionSummary, StatusClass,
    rater_name,
};

/// `/requests/:id`: one request with every field, its session, its ratings, and a
/// 1–5 star widget to rate it (or change your rating).
#[component]
pub fn RequestDetailPage() -> impl IntoView {
    let params = use_params_map();
    let request_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let rate = ServerAction::<RateRequest>::new();
    // Fetched again after each rating, so the list shows it.
    let detail = Resource::new(
        move || (request_id.get(), rate.version().get()),
        |(id, _)| load_request(id),
    );
    // Another request: no message about the last one.
    Effect::new(move |_| {
        request_id.track();
        rate.clear();
    });

    view! {
        <div class="page-head">
            <h1>"Request"</h1>
            <a href="/requests" class="back">"← All requests"</a>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading the request…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail detail=d rate /> }.into_any(),
                    Err(e) => view! {
                        <section class="card"><ErrorState message=clean_error(&e.to_string()) /></section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(detail: RequestDetail, rate: ServerAction<RateRequest>) -> impl IntoView {
    let RequestDetail {
        request,
        session,
        feedback,
        my_rating,
    } = detail;
    let request_id = request.request_id.clone();
    view! {
        <div class="detail-grid">
            <section class="card" data-testid="request-detail" aria-label="Request">
                <h2 class="card-title">"Request"</h2>
                <Fields request />
            </section>
            <div class="detail-side">
                <section class="card" data-testid="request-session" aria-label="Session">
                    <h2 class="card-title">"Session"</h2>
                    <Session session />
                </section>
                <section class="card" aria-label="Your rating">
                    <h2 class="card-title">"Your rating"</h2>
                    <RatingWidget request_id mine=my_rating rate />
                </section>
                <section class="card" aria-label="Ratings">
                    <h2 class="card-title">"Ratings"</h2>
                    <Ratings feedback />
                </section>
            </div>
        </div>
    }
}

/// Every column of the row, as a definition list; absent values show as `–`.
#[component]
fn Fields(request: RequestRecord) -> impl IntoView {
    let r = request;
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".to_owned());
    let bytes = |v: Option<i64>| v.map(|b| format!("{b} B"));
    let user_link = r.user_id.clone().map(|u| {
        let to = href("/requests", &[("user", Some(&u)), ("range", Some("all"))]);
        view! { <A href=to>{u}</A> }
    });
    let metadata = r.metadata.map(|m| {
        serde_json::from_str::<serde_json::Value>(&m)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(m)
    });
    let rows: Vec<(&'static str, String)> = vec![
        ("Kind", r.kind),
        ("Service", or_dash(r.service)),
        ("Method", r.method),
        ("Latency", millis(Some(r.latency_ms))),
        ("Time to first token", millis(r.ttft_ms)),
        ("Model", or_dash(r.model_name)),
        ("Prompt tokens", compact_count(r.prompt_tokens)),
        ("Completion tokens", compact_count(r.completion_tokens)),
        ("Cache read tokens", compact_count(r.cache_read_tokens)),
        ("Cache write tokens", compact_count(r.cache_write_tokens)),
        ("Reasoning tokens", compact_count(r.reasoning_tokens)),
        ("Cost", money_exact(r.cost_micros)),
        ("Finish reason", or_dash(r.finish_reason)),
        ("Session id", or_dash(r.session_id)),
        (
            "Authenticated",
            if r.is_authenticated { "yes" } else { "no" }.to_owned(),
        ),
        ("IP", or_dash(r.ip)),
        ("Country", or_dash(r.country)),
        ("User agent", or_dash(r.user_agent)),
        ("Request size", or_dash(bytes(r.request_bytes))),
        ("Response size", or_dash(bytes(r.response_bytes))),
    ];
    view! {
        <dl class="fields">
            <dt>"Request id"</dt>
            <dd class="mono" data-testid="field-request-id">{r.request_id}</dd>
            <dt>"Time"</dt>
            <dd data-testid="field-time">{instant_precise(r.created_at)}</dd>
            <dt>"Endpoint"</dt>
            <dd class="mono" data-testid="field-endpoint">{r.endpoint}</dd>
            <dt>"Status"</dt>
            <dd><span class=StatusClass::css(r.status_code) data-testid="field-status">{r.status_code}</span></dd>
            <dt>"User"</dt>
            <dd data-testid="field-user">{user_link.map_or_else(|| "–".into_any(), IntoAny::into_any)}</dd>
            {rows.into_iter().map(|(label, value)| view! {
                <dt>{label}</dt>
                <dd data-testid=format!("field-{}", label.to_lowercase().replace(' ', "-"))>{value}</dd>
            }).collect_view()}
            <dt>"Error"</dt>
            <dd class="error-text" data-testid="field-error">{or_dash(r.error)}</dd>
            <dt>"Metadata"</dt>
            <dd>{match metadata {
                Some(m) => view! { <pre class="mono metadata" data-testid="field-metadata">{m}</pre> }.into_any(),
                None => "–".into_any(),
            }}</dd>
        </dl>
    }
}

#[component]
fn Session(session: Option<SessionSummary>) -> impl IntoView {
    let Some(s) = session else {
        return view! { <p class="empty" data-testid="no-session">"This request belongs to no session."</p> }
            .into_any();
    };
    let all_requests = crate::sessions::requests_href(&s);
    view! {
        <dl class="fields compact">
            <dt>"Session"</dt>
            <dd class="mono ellipsis" title=s.session_key.clone()>{s.session_key.clone()}
                {s.inferred.then_some(view! { <span class="muted small">" (inferred)"</span> })}
            </dd>
            <dt>"Started"</dt>
            <dd data-testid="session-start">{instant(s.started_at)}</dd>
            <dt>"Duration"</dt>
            <dd>{duration(s.last_seen_at - s.started_at)}</dd>
            <dt>"Requests"</dt>
            <dd data-testid="session-requests">{compact_count(s.request_count)}
                {(s.error_count > 0).then(|| format!(" ({} errors)", compact_count(s.error_count)))}
            </dd>
            <dt>"Tokens"</dt>
            <dd>{compact_count(s.tokens)}</dd>
            <dt>"Cost"</dt>
            <dd data-testid="session-cost">{money_exact(s.cost_micros)}</dd>
        </dl>
        <A href=all_requests attr:data-testid="session-all-requests">
            "Every request of this session"
        </A>
    }
    .into_any()
}

/// Every rating of the request; comments are shown as text.
#[component]
fn Ratings(feedback: Vec<FeedbackEntry>) -> impl IntoView {
    if feedback.is_empty() {
        return view! { <p class="empty" data-testid="ratings">"No ratings yet."</p> }.into_any();
    }
    view! {
        <ul class="ratings" data-testid="ratings">
            {feedback.into_iter().map(|f| view! {
                <li data-testid="rating" data-rater=f.user_id.clone()>
                    <span class="stars-text" role="img" aria-label=stars_label(f.rating)>
                        {"★".repeat(f.rating.clamp(0, 5) as usize)}{"☆".repeat((5 - f.rating).clamp(0, 5) as usize)}
                    </span>
                    <span class="rater">{rater_name(&f.user_id)}</span>
                    <span class="muted small">{instant(f.updated_at)}</span>
                    {f.comment.map(|c| view! { <p class="comment" data-testid="rating-text">{c}</p> })}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Five star buttons, a comment and a submit button; preselects the account's own
/// rating and changes it when submitted again.
#[component]
fn RatingWidget(
    request_id: String,
    mine: Option<FeedbackEntry>,
    rate: ServerAction<RateRequest>,
) -> impl IntoView {
    let had_rating = mine.is_some();
    let selected = RwSignal::new(mine.as_ref().map(|m| m.rating));
    let comment = RwSignal::new(mine.and_then(|m| m.comment).unwrap_or_default());
    let request_id = StoredValue::new(request_id);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(rating) = selected.get_untracked() {
            rate.dispatch(RateRequest {
                request_id: request_id.get_value(),
                rating,
                comment: Some(comment.get_untracked()),
            });
        }
    };
    let message = move || {
        rate.value().get().map(|result| match result {
            Ok(()) => view! {
                <p class="ok-state" role="status" data-testid="rating-message">"Rating saved."</p>
            }
            .into_any(),
            Err(e) => view! {
                <p class="error" role="alert" data-testid="rating-message">{clean_error(&e.to_string())}</p>
            }
            .into_any(),
        })
    };
    view! {
        <form class="rating-form" data-testid="rating-form" on:submit=submit>
            // A radio group: Tab reaches it, the arrow keys change the rating, Enter submits.
            <fieldset class="stars">
                <legend class="sr-only">"Rating"</legend>
                {(1..=5).map(|n| {
                    let filled = move || selected.get().is_some_and(|s| s >= n);
                    view! {
                        <label class="star" data-testid=format!("star-{n}") class:filled=filled>
                            <input type="radio" class="sr-only" name="rating" value=n
                                aria-label=stars_label(n)
                                // The attribute for the page as served, the property
                                // once it runs.
                                checked=move || selected.get() == Some(n)
                                prop:checked=move || selected.get() == Some(n)
                                on:change=move |_| selected.set(Some(n)) />
                            <span aria-hidden="true">{move || if filled() { "★" } else { "☆" }}</span>
                        </label>
                    }
                    .into_any()
                }).collect_view()}
            </fieldset>
            <label class="comment-field">"Comment (optional)"
                // The value is a property only: the server renders a textarea's text
                // unescaped, so a comment must never be its child.
                <textarea data-testid="rating-comment" rows="3" maxlength=MAX_COMMENT_CHARS
                    prop:value=move || comment.get()
                    on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            </label>
            <button class="button primary" type="submit" data-testid="rating-submit"
                disabled=move || selected.get().is_none() || rate.pending().get()>
                {if had_rating { "Change rating" } else { "Save rating" }}
            </button>
            {message}
        </form>
    }
    // Erased: the page's view type is otherwise too deep for the compiler.
    .into_any()
}

/// `1 star`, `3 stars`.
fn stars_label(n: i32) -> String {
    if n == 1 {
        "1 star".to_owned()
    } else {
        format!("{n} stars")
    }
}

/// A server error without the transport's prefix.
pub(crate) fn clean_error(text: &str) -> String {
    text.trim_start_matches("error running server function: ")
        .to_owned()
}
