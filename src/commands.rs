//! The CLI's one-shot commands (`demo`, `rollup --rebuild`): each opens the database,
//! does its work with a progress bar on a terminal, and reports on stdout.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use sightline_app::format::instant;
use sightline_app::units::EpochMillis;

use crate::Error;
use crate::auth::password;
use crate::config::{
    ApiKeyCommand, Config, CreateAdminArgs, DemoArgs, PriceCommand, PruneArgs, RollupArgs,
};
use crate::demo::{self, DemoOptions};
use crate::pricing::ModelPrice;
use crate::store::{Scope, Store};

async fn open(config: &Config) -> Result<Store, Error> {
    let store = config.connect_store().await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn demo(config: &Config, args: &DemoArgs) -> Result<(), Error> {
    let store = open(config).await?;
    if args.clear {
        store.clear_traffic_data().await?;
        println!("cleared existing traffic data");
    }
    let options = DemoOptions {
        days: args.days,
        users: args.users,
        per_day: args.per_day,
        seed: args.seed,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let (_, report) = demo::seed(&store, &options, now, std::io::stderr().is_terminal()).await?;
    println!(
        "wrote {} requests, {} ratings, {} threats and {} auth events over {} days in {:.1} s ({:.0} requests/s)",
        report.requests,
        report.feedback,
        report.threats,
        report.auth_events,
        args.days,
        report.elapsed_ms as f64 / 1000.0,
        report.requests_per_second()
    );
    store.close().await;
    Ok(())
}

pub async fn rebuild_rollups(config: &Config, args: &RollupArgs) -> Result<(), Error> {
    let store = open(config).await?;
    if let Some(oldest) = store.rollups_older_than_raw().await?
        && !args.discard_pruned_history
    {
        let day = chrono::DateTime::from_timestamp_millis(oldest)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "the rollups go back to {day}, before the oldest raw request (older ones were pruned): \
             a rebuild would lose that history; pass --discard-pruned-history to rebuild anyway"
        )));
    }
    let started = std::time::Instant::now();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} requests")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let replayed = store
        .rebuild_rollups(|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "rebuilt rollups, sessions and model stats from {replayed} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}

/// `sightline prune`: deletes (or with `--dry-run` counts) raw requests and auth
/// events older than `--days`, else the retention in force, in small batches.
pub async fn prune(config: &Config, args: &PruneArgs) -> Result<(), Error> {
    use crate::jobs::retention;
    let store = open(config).await?;
    let mut policy = store.retention_policy(config.retention_days).await?;
    if let Some(days) = args.days {
        policy.days = days;
    }
    let days = policy.days;
    let cutoff = policy.cutoff(chrono::Utc::now().timestamp_millis());
    let started = std::time::Instant::now();
    let (verb, report) = if args.dry_run {
        ("would delete", retention::dry_run(&store, cutoff).await?)
    } else {
        let options = retention::PruneOptions::default();
        ("deleted", retention::prune(&store, cutoff, options).await?)
    };
    println!(
        "{verb} {} requests and {} auth events older than {days} days (before {}) in {:.1} s; rollups kept",
        report.requests,
        report.auth_events,
        instant(EpochMillis(cutoff)),
        started.elapsed().as_secs_f64(),
    );
    println!(
        "{verb} as well {} audit entries, {} OTLP span links, {} resolved threats, {} sessions, \
         {} users, {} users' provider-cost rows, {} per-user rollup rows, {} resolved alerts, \
         {} ratings, {} error-group rollup rows and {} error groups",
        report.audit,
        report.trace_spans,
        report.threats,
        report.sessions,
        report.users,
        report.provider_costs,
        report.user_rollups,
        report.alerts,
        report.ratings,
        report.error_rollups,
        report.error_groups
    );
    store.close().await;
    Ok(())
}

pub async fn create_admin(config: &Config, args: &CreateAdminArgs) -> Result<(), Error> {
    let username = args.username.trim();
    password::check_username(username).map_err(|e| Error::Usage(e.0))?;
    let role = sightline_app::auth::Role::parse(&args.role).ok_or_else(|| {
        Error::Usage(format!("unknown role `{}`: use admin or viewer", args.role))
    })?;
    let (secret, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::Usage(format!("cannot read the password from stdin: {e}")))?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (password::generate(), true)
    };
    password::check_new_password(&secret).map_err(|e| Error::Usage(e.0))?;
    let store = open(config).await?;
    let hash = password::hash(&secret).await;
    let now = chrono::Utc::now().timestamp_millis();
    let (account, created) = store.upsert_account(username, &hash, role, now).await?;
    let (action, detail) = if created {
        (
            "account.created",
            serde_json::json!({ "role": account.role.as_str(), "generated_password": generated }),
        )
    } else {
        (
            "account.password_reset",
            serde_json::json!({ "role": account.role.as_str() }),
        )
    };
    crate::audit::record_cli(&store, action, Some(&account.username), Some(detail)).await;
    println!(
        "{} {} account {}",
        if created { "Created" } else { "Updated" },
        account.role,
        account.username
    );
    if generated {
        println!("Its password is shown only now:");
        println!("{secret}");
    }
    store.close().await;
    Ok(())
}

pub async fn api_key(config: &Config, command: ApiKeyCommand) -> Result<(), Error> {
    let store = open(config).await?;
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        ApiKeyCommand::Create { name, scopes } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(Error::Usage("--name must not be empty".into()));
            }
            let scopes = Scope::parse_list(&scopes).map_err(|e| Error::Usage(e.to_string()))?;
            let (key, secret) = store
                .create_api_key(name, &scopes, Some("cli"), now)
                .await?;
            let scope_names: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
            crate::audit::record_cli(
                &store,
                "api_key.created",
                Some(&key.prefix),
                Some(serde_json::json!({ "name": key.name, "scopes": scope_names })),
            )
            .await;
            println!(
                "Created API key {} ({}) with scopes {}. It is shown only now:",
                key.prefix,
                key.name,
                scope_list(&key.scopes)
            );
            println!("{secret}");
        }
        ApiKeyCommand::List => {
            let keys = store.list_api_keys().await?;
            println!(
                "{:<6} {:<12} {:<24} {:<12} {:<20} {:<20}",
                "ID", "PREFIX", "NAME", "SCOPES", "LAST USED", "STATE"
            );
            for k in keys {
                println!(
                    "{:<6} {:<12} {:<24} {:<12} {:<20} {:<20}",
                    k.id,
                    k.prefix,
                    k.name,
                    scope_list(&k.scopes),
                    k.last_used_at.map_or("never".to_string(), instant),
                    k.revoked_at
                        .map_or("active".to_string(), |t| format!("revoked {}", instant(t)))
                );
            }
        }
        ApiKeyCommand::Revoke { key } => match store.revoke_api_key(&key, now).await? {
            Some(k) => {
                crate::audit::record_cli(
                    &store,
                    "api_key.revoked",
                    Some(&k.prefix),
                    Some(serde_json::json!({ "name": k.name })),
                )
                .await;
                println!("Revoked API key {} ({})", k.prefix, k.name)
            }
            None => {
                return Err(Error::Usage(format!(
                    "no API key with id or prefix `{key}`"
                )));
            }
        },
    }
    store.close().await;
    Ok(())
}

fn scope_list(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn price(config: &Config, command: PriceCommand) -> Result<(), Error> {
    let store = open(config).await?;
    match command {
        PriceCommand::List => {
            let models = crate::pricing::merged_prices(store.model_prices().await?);
            println!(
                "{:<28} {:>12} {:>15} {:>14} {:>15} {:>13}  SOURCE",
                "MODEL",
                "PROMPT $/1M",
                "COMPLETION $/1M",
                "CACHE READ $/1M",
                "CACHE WRITE $/1M",
                "REASONING $/1M"
            );
            let usd = |m: i64| format!("{:.4}", m as f64 / 1e6);
            // An unset rate is shown as the one that applies, in parentheses.
            let or = |m: Option<i64>, fallback: i64| {
                m.map_or_else(|| format!("({})", usd(fallback)), usd)
            };
            for (model, p, source) in models {
                println!(
                    "{model:<28} {:>12} {:>15} {:>14} {:>15} {:>13}  {}",
                    usd(p.prompt_micros_per_mtok),
                    usd(p.completion_micros_per_mtok),
                    or(p.cache_read_micros_per_mtok, p.prompt_micros_per_mtok),
                    or(p.cache_write_micros_per_mtok, p.prompt_micros_per_mtok),
                    or(p.reasoning_micros_per_mtok, p.completion_micros_per_mtok),
                    source.as_str()
                );
            }
        }
        PriceCommand::Set {
            model,
            prompt,
            completion,
            cache_read,
            cache_write,
            reasoning,
        } => {
            if model.trim().is_empty() {
                return Err(Error::Usage("give a model name".into()));
            }
            let typed = crate::pricing::UsdPrices {
                prompt,
                completion,
                cache_read,
                cache_write,
                reasoning,
            };
            let price = ModelPrice::from_usd(typed).map_err(|e| Error::Usage(e.to_string()))?;
            store
                .set_model_price(model.trim(), price, chrono::Utc::now().timestamp_millis())
                .await?;
            crate::audit::record_cli(
                &store,
                "price.set",
                Some(model.trim()),
                Some(crate::audit::price_detail(&typed)),
            )
            .await;
            let optional = |name: &str, v: Option<f64>| {
                v.map(|v| format!(", ${v}/1M {name} tokens"))
                    .unwrap_or_default()
            };
            println!(
                "{}: ${prompt}/1M prompt tokens, ${completion}/1M completion tokens{}{}{}",
                model.trim(),
                optional("cache read", cache_read),
                optional("cache write", cache_write),
                optional("reasoning", reasoning),
            );
        }
        PriceCommand::Reset { model } => {
            if !store.delete_model_price(&model).await? {
                return Err(Error::Usage(format!("no price set for `{model}`")));
            }
            crate::audit::record_cli(&store, "price.reset", Some(&model), None).await;
            println!("{model}: back to the built-in price");
        }
    }
    store.close().await;
    Ok(())
}
