//! The parent/child rule of OTLP traces in the store: a GenAI span's model, tokens and
//! cost also count on the request of its nearest SERVER ancestor in the same trace (see
//! `otlp::lineage` for the walk), exactly once, in whichever export completes the chain,
//! in the same transaction that adds its usage to the server's request row and to every
//! rollup, session, user and model stat that request counts in.
//!
//! When both are in one export (the usual case: an SDK exports a trace's spans
//! together), the export already knows (`NewSpan::counted_on`): the usage is added to the
//! server's row before it is inserted, so its rollups are written once, and neither span
//! keeps a link, as their requests are their links (`<trace>-<span>`; a GenAI span's
//! parent is in its request's metadata). Only the spans a later export may need to walk
//! through or settle are kept in `otlp_span`: GenAI spans still waiting for their server
//! span (`counted_on` is set when they are counted, or to '' when their trace has no
//! server span above them), and spans that became no request.

use std::collections::{BTreeMap, HashMap, HashSet};

use sightline_app::units::Micros;
use sightline_tracker::wire::RequestKind;
use sqlx::{AnyConnection, FromRow, Row};

use super::requests::{REQUEST_SELECT, request_from_row};
use super::{DbKind, IngestWrite, NewRequest, StoreError, values_placeholders};
use crate::otlp::lineage::{self, Ancestor, Link};

/// Most ids in one `IN (…)` list.
const IDS_PER_STATEMENT: usize = 500;
/// Rows per INSERT.
const SPANS_PER_STATEMENT: usize = 400;
const SPAN_COLUMNS: usize = 13;

/// What a span became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanRole {
    /// A SERVER span: a request the platform served (`kind` api).
    Server,
    /// A GenAI span: a provider call (`kind` external) whose usage counts upward.
    Provider,
    /// Any other span (or one whose request was rejected): a link of the tree only.
    Other,
}

impl SpanRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanRole::Server => "server",
            SpanRole::Provider => "provider",
            SpanRole::Other => "other",
        }
    }
}

/// A provider call's usage, as its request was stored (validated and priced).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanUsage {
    pub model_name: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Parts of `prompt_tokens` and `completion_tokens`, as in a request.
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_micros: Micros,
}

impl SpanUsage {
    /// The usage of a stored provider request.
    pub fn of(row: &NewRequest) -> SpanUsage {
        SpanUsage {
            model_name: row.model_name.clone(),
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            cache_read_tokens: row.cache_read_tokens,
            cache_write_tokens: row.cache_write_tokens,
            reasoning_tokens: row.reasoning_tokens,
            cost_micros: row.cost_micros,
        }
    }
}

/// A span of an export, as the parent/child rule reads it (the store keeps a link for
/// some: see `settle_in`). Ids are lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub role: SpanRole,
    /// The request a server or provider span became.
    pub request_id: Option<String>,
    pub usage: SpanUsage,
    /// For a GenAI span whose nearest server ancestor came in the same export: that
    /// server's request id (`otlp::lineage::count_within`).
    pub counted_on: Option<String>,
    pub created_at: i64,
}

/// A provider span not yet counted on a server ancestor.
struct Pending {
    id: i64,
    trace_id: String,
    parent_span_id: Option<String>,
    usage: SpanUsage,
}

/// What the insert of a batch's requests left to do for the usage its exports counted
/// within themselves (added to the server rows before the writer saw them).
#[derive(Debug, Default)]
struct Reconciled {
    /// Usage of new GenAI spans counted on a server request stored earlier.
    after_insert: BTreeMap<String, Vec<SpanUsage>>,
    /// Server rows inserted with the usage of a GenAI span that was not to count there
    /// (a repeat, or counted elsewhere in the batch): the row as inserted and as it
    /// should be.
    corrections: Vec<(NewRequest, NewRequest)>,
    /// GenAI spans counted within an export, by request id.
    counted: HashSet<String>,
}

/// Settles the usage each export of `group` counted within itself against what the
/// insert found (`stored`: the group's rows as inserted, `fresh`: which were new,
/// `new_ids`: the request ids the insert stored for the first time). A
/// GenAI span counts once, and only if its request was new (else it counted when it
/// first came): on the first server row it was added to. A server row stored already
/// (its span exported again, now with a new GenAI span beneath) gets the usage added
/// to its stored row; a new server row that took usage it should not have is corrected.
fn reconcile(
    group: &[&IngestWrite],
    stored: &[&NewRequest],
    fresh: &[bool],
    new_ids: &HashSet<&str>,
) -> Reconciled {
    let mut out = Reconciled::default();
    let mut offset = 0;
    for w in group {
        let rows = stored[offset..offset + w.requests.len()]
            .iter()
            .zip(&fresh[offset..]);
        offset += w.requests.len();
        let mut merges: HashMap<&str, Vec<&NewSpan>> = HashMap::new();
        let mut own: HashMap<&str, &SpanUsage> = HashMap::new();
        for s in &w.spans {
            match (s.role, &s.counted_on, &s.request_id) {
                (SpanRole::Provider, Some(server), Some(_)) => {
                    merges.entry(server.as_str()).or_default().push(s)
                }
                (SpanRole::Server, _, Some(id)) => {
                    own.entry(id.as_str()).or_insert(&s.usage);
                }
                _ => {}
            }
        }
        for (row, fresh) in rows {
            // An export adds the usage to the first row of the server's id only.
            let Some(calls) = merges.remove(row.request_id.as_str()) else {
                continue;
            };
            let mut kept: Vec<SpanUsage> = Vec::new();
            let mut all_kept = true;
            for call in calls {
                let id = call.request_id.as_deref().unwrap_or_default();
                if new_ids.contains(id) && out.counted.insert(id.to_string()) {
                    kept.push(call.usage.clone());
                } else {
                    all_kept = false;
                }
            }
            if !fresh {
                if !kept.is_empty() {
                    out.after_insert
                        .entry(row.request_id.clone())
                        .or_default()
                        .extend(kept);
                }
            } else if !all_kept {
                let mut right = (*row).clone();
                set_usage(&mut right, own.get(row.request_id.as_str()).copied());
                match with_usage(&right, &kept) {
                    Some(right) => out.corrections.push(((*row).clone(), right)),
                    None => overflow(&row.request_id),
                }
            }
        }
    }
    out
}

/// `row`'s usage replaced by `usage` (none: no model, no tokens, no cost).
fn set_usage(row: &mut NewRequest, usage: Option<&SpanUsage>) {
    let usage = usage.cloned().unwrap_or_default();
    row.model_name = usage.model_name;
    row.prompt_tokens = usage.prompt_tokens;
    row.completion_tokens = usage.completion_tokens;
    row.cache_read_tokens = usage.cache_read_tokens;
    row.cache_write_tokens = usage.cache_write_tokens;
    row.reasoning_tokens = usage.reasoning_tokens;
    row.cost_micros = usage.cost_micros;
}

/// Adds `usage` to `row` (tokens and cost checked; the model kept, or the usage's),
/// all or nothing; false if a sum overflows.
pub fn add_usage_to(row: &mut NewRequest, usage: &SpanUsage) -> bool {
    match with_usage(row, [usage]) {
        Some(new) => {
            *row = new;
            true
        }
        None => false,
    }
}

fn overflow(request_id: &str) {
    tracing::error!(%request_id, "GenAI usage beneath this request overflows its totals: not added");
}

/// After the requests of `group` are stored (`stored` as inserted, `fresh` which were
/// new), on the caller's write transaction: settles the usage counted within each
/// export ([`reconcile`], only when some row was not new), stores the links the
/// parent/child rule needs later, and counts every still pending GenAI span of the
/// touched traces whose server ancestor is now known (or marks it as having none).
///
/// Links: a server span's request (`<trace>-<span>`, `kind` api) is its link, and so is
/// the request of a GenAI span counted within its export (`kind` external, its parent
/// in the metadata's `otel.parent_span_id`); every other span (a GenAI span still
/// waiting for its server, any other span) is kept in `otlp_span`, once. A GenAI span
/// whose request is a repeat was counted when it first came: it is not stored again.
pub(super) async fn settle_in(
    conn: &mut AnyConnection,
    group: &[&IngestWrite],
    stored: &[&NewRequest],
    fresh: &[bool],
    kind: DbKind,
) -> Result<(), StoreError> {
    let spans: Vec<&NewSpan> = group.iter().flat_map(|w| w.spans.iter()).collect();
    if spans.is_empty() {
        return Ok(());
    }
    // Every row new (the usual case): every export's additions stand as inserted.
    let all_new = fresh.iter().all(|f| *f);
    let new_ids: HashSet<&str> = if all_new {
        HashSet::new()
    } else {
        stored
            .iter()
            .zip(fresh)
            .filter(|(_, fresh)| **fresh)
            .map(|(r, _)| r.request_id.as_str())
            .collect()
    };
    let reconciled = if all_new {
        Reconciled::default()
    } else {
        reconcile(group, stored, fresh, &new_ids)
    };
    let Reconciled {
        after_insert: mut additions,
        corrections,
        counted,
    } = reconciled;
    update_usage(conn, corrections).await?;
    let links: Vec<&NewSpan> = spans
        .iter()
        .filter(|s| match s.role {
            SpanRole::Server => false,
            SpanRole::Other => true,
            SpanRole::Provider => {
                let id = s.request_id.as_deref().unwrap_or_default();
                s.counted_on.is_none()
                    && (all_new || (new_ids.contains(id) && !counted.contains(id)))
            }
        })
        .copied()
        .collect();
    insert_links(conn, &links, kind).await?;

    let traces: Vec<&str> = distinct(spans.iter().map(|s| s.trace_id.as_str()));
    let pending = pending_in(conn, &traces).await?;
    if pending.is_empty() {
        return add_usage(conn, additions).await;
    }
    let mut links = links_of(conn, &distinct(pending.iter().map(|p| p.trace_id.as_str()))).await?;
    // Spans a walk does not find among the links may be server spans or counted GenAI
    // spans, which keep none: their requests are looked up by id, round after round
    // while a walk goes further up.
    let empty = HashMap::new();
    let mut looked_up: HashSet<String> = HashSet::new();
    loop {
        let missing: Vec<String> = pending
            .iter()
            .filter_map(|p| {
                let trace = links.get(&p.trace_id).unwrap_or(&empty);
                match lineage::nearest_server(p.parent_span_id.as_deref(), trace) {
                    Ancestor::Missing(span) => Some(format!("{}-{span}", p.trace_id)),
                    _ => None,
                }
            })
            .filter(|id| !looked_up.contains(id))
            .collect();
        if missing.is_empty() {
            break;
        }
        let missing = distinct(missing.iter().map(String::as_str));
        for (request_id, link) in request_links(conn, &missing).await? {
            let Some((trace, span)) = request_id.split_once('-') else {
                continue;
            };
            let (trace, span) = (trace.to_string(), span.to_string());
            links.entry(trace).or_default().insert(span, link);
        }
        looked_up.extend(missing.into_iter().map(str::to_string));
    }

    // Usage to add per server request, in span order (the first model named wins).
    let mut orphans = Vec::new();
    for p in pending {
        let trace = links.get(&p.trace_id).unwrap_or(&empty);
        match lineage::nearest_server(p.parent_span_id.as_deref(), trace) {
            Ancestor::Server(request_id) => {
                if claim(conn, p.id, request_id).await? {
                    additions
                        .entry(request_id.to_string())
                        .or_default()
                        .push(p.usage);
                }
            }
            Ancestor::None => orphans.push(p.id),
            Ancestor::Missing(_) => {}
        }
    }
    mark_orphans(conn, &orphans).await?;
    add_usage(conn, additions).await
}

/// A stored request read as a link of its trace.
#[derive(sqlx::FromRow)]
struct RequestLink {
    request_id: String,
    kind: String,
    metadata: Option<String>,
}

/// The stored requests among `request_ids` as links: a request the platform served
/// (`kind` api) is a server span; a provider call (`kind` external) is a GenAI span,
/// whose parent its metadata names.
async fn request_links(
    conn: &mut AnyConnection,
    request_ids: &[&str],
) -> Result<Vec<(String, Link)>, StoreError> {
    let mut found = Vec::new();
    for chunk in request_ids.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT request_id, kind, metadata FROM request_log WHERE request_id IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let r = RequestLink::from_row(&row)?;
            let link = if RequestKind::parse(&r.kind) == Some(RequestKind::Api) {
                Link {
                    parent: None,
                    server_request: Some(r.request_id.clone()),
                }
            } else {
                Link {
                    parent: r.metadata.as_deref().and_then(parent_span_of),
                    server_request: None,
                }
            };
            found.push((r.request_id, link));
        }
    }
    Ok(found)
}

/// The parent span id an OTLP request's metadata names.
fn parent_span_of(metadata: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(metadata).ok()?;
    Some(value.get("otel.parent_span_id")?.as_str()?.to_string())
}

/// Each of `ids` once, sorted: on the writer's path, and cheaper than hashing each id.
fn distinct<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Inserts the links not stored yet (a link already stored is kept as it was).
async fn insert_links(
    conn: &mut AnyConnection,
    spans: &[&NewSpan],
    kind: DbKind,
) -> Result<(), StoreError> {
    for chunk in spans.chunks(SPANS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO otlp_span (trace_id, span_id, parent_span_id, role, request_id, \
                model_name, prompt_tokens, completion_tokens, cache_read_tokens, \
                cache_write_tokens, reasoning_tokens, cost_micros, created_at) \
             VALUES {} ON CONFLICT (trace_id, span_id) DO NOTHING",
            values_placeholders(conn, chunk.len(), SPAN_COLUMNS)
        );
        // As for request rows: NULL-able columns would fix a cached statement's types.
        let mut query = sqlx::query(&sql).persistent(kind == DbKind::Sqlite);
        for s in chunk {
            query = query
                .bind(&s.trace_id)
                .bind(&s.span_id)
                .bind(&s.parent_span_id)
                .bind(s.role.as_str())
                .bind(&s.request_id)
                .bind(&s.usage.model_name)
                .bind(s.usage.prompt_tokens)
                .bind(s.usage.completion_tokens)
                .bind(s.usage.cache_read_tokens)
                .bind(s.usage.cache_write_tokens)
                .bind(s.usage.reasoning_tokens)
                .bind(s.usage.cost_micros)
                .bind(s.created_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The provider spans of `traces` not yet counted, oldest first.
async fn pending_in(conn: &mut AnyConnection, traces: &[&str]) -> Result<Vec<Pending>, StoreError> {
    let mut pending = Vec::new();
    for chunk in traces.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, trace_id, parent_span_id, model_name, prompt_tokens, completion_tokens, \
                cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_micros \
             FROM otlp_span \
             WHERE trace_id IN {} AND role = 'provider' AND counted_on IS NULL",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for t in chunk {
            query = query.bind(*t);
        }
        for row in query.fetch_all(&mut *conn).await? {
            pending.push(Pending {
                id: row.try_get("id")?,
                trace_id: row.try_get("trace_id")?,
                parent_span_id: row.try_get("parent_span_id")?,
                usage: SpanUsage {
                    model_name: row.try_get("model_name")?,
                    prompt_tokens: row.try_get("prompt_tokens")?,
                    completion_tokens: row.try_get("completion_tokens")?,
                    cache_read_tokens: row.try_get("cache_read_tokens")?,
                    cache_write_tokens: row.try_get("cache_write_tokens")?,
                    reasoning_tokens: row.try_get("reasoning_tokens")?,
                    cost_micros: row.try_get("cost_micros")?,
                },
            });
        }
    }
    pending.sort_by_key(|p| p.id);
    Ok(pending)
}

/// Every stored span of `traces` as a link of its trace's tree, by trace and span id.
async fn links_of(
    conn: &mut AnyConnection,
    traces: &[&str],
) -> Result<HashMap<String, HashMap<String, Link>>, StoreError> {
    let mut links: HashMap<String, HashMap<String, Link>> = HashMap::new();
    for chunk in traces.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT trace_id, span_id, parent_span_id, role, request_id FROM otlp_span \
             WHERE trace_id IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for t in chunk {
            query = query.bind(*t);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let role: String = row.try_get("role")?;
            let request_id: Option<String> = row.try_get("request_id")?;
            let link = Link {
                parent: row.try_get("parent_span_id")?,
                server_request: request_id.filter(|_| role == SpanRole::Server.as_str()),
            };
            links
                .entry(row.try_get("trace_id")?)
                .or_default()
                .insert(row.try_get("span_id")?, link);
        }
    }
    Ok(links)
}

/// Records that provider span `id` counts on `request_id`; false if it already counted.
async fn claim(conn: &mut AnyConnection, id: i64, request_id: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE otlp_span SET counted_on = $1 WHERE id = $2 AND counted_on IS NULL")
            .bind(request_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Provider spans with no server ancestor at all (the walk reached a root): never counted.
async fn mark_orphans(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE otlp_span SET counted_on = '' WHERE counted_on IS NULL AND id IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds each server request's claimed usage to its stored row, and the difference to
/// everything derived from it. A request no longer stored (pruned) is left alone.
async fn add_usage(
    conn: &mut AnyConnection,
    additions: BTreeMap<String, Vec<SpanUsage>>,
) -> Result<(), StoreError> {
    if additions.is_empty() {
        return Ok(());
    }
    let ids: Vec<&String> = additions.keys().collect();
    let mut stored: Vec<NewRequest> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT {REQUEST_SELECT} FROM request_log WHERE request_id IN {}",
            values_placeholders(conn, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            stored.push(request_from_row(&row)?);
        }
    }
    let mut changes = Vec::with_capacity(stored.len());
    for old in stored {
        let Some(usages) = additions.get(&old.request_id) else {
            continue;
        };
        match with_usage(&old, usages) {
            Some(new) => changes.push((old, new)),
            None => overflow(&old.request_id),
        }
    }
    update_usage(conn, changes).await
}

/// Writes each request's new usage (`old` → `new`) to its stored row, and the
/// difference to everything derived from it.
async fn update_usage(
    conn: &mut AnyConnection,
    changes: Vec<(NewRequest, NewRequest)>,
) -> Result<(), StoreError> {
    for (_, new) in &changes {
        sqlx::query(
            "UPDATE request_log SET model_name = $1, prompt_tokens = $2, \
                completion_tokens = $3, cache_read_tokens = $4, cache_write_tokens = $5, \
                reasoning_tokens = $6, cost_micros = $7 WHERE request_id = $8",
        )
        .bind(&new.model_name)
        .bind(new.prompt_tokens)
        .bind(new.completion_tokens)
        .bind(new.cache_read_tokens)
        .bind(new.cache_write_tokens)
        .bind(new.reasoning_tokens)
        .bind(new.cost_micros)
        .bind(&new.request_id)
        .persistent(false)
        .execute(&mut *conn)
        .await?;
    }
    super::rollups::apply_changes(conn, &changes).await
}

/// `old` with `usages` added: tokens and cost summed (checked), the model kept, or
/// the first one named beneath it. `None` if a sum overflows.
fn with_usage<'u>(
    old: &NewRequest,
    usages: impl IntoIterator<Item = &'u SpanUsage>,
) -> Option<NewRequest> {
    let mut new = old.clone();
    for u in usages {
        new.prompt_tokens = new.prompt_tokens.checked_add(u.prompt_tokens)?;
        new.completion_tokens = new.completion_tokens.checked_add(u.completion_tokens)?;
        new.cache_read_tokens = new.cache_read_tokens.checked_add(u.cache_read_tokens)?;
        new.cache_write_tokens = new.cache_write_tokens.checked_add(u.cache_write_tokens)?;
        new.reasoning_tokens = new.reasoning_tokens.checked_add(u.reasoning_tokens)?;
        new.cost_micros = new.cost_micros.checked_add(u.cost_micros)?;
        if new.model_name.is_none() {
            new.model_name.clone_from(&u.model_name);
        }
    }
    Some(new)
}
