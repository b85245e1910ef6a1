//! The demo platform's traffic: users who come back in sessions during business hours,
//! a weighted mix of APIs and models with plausible tokens, latency and prices, a
//! realistic status mix with rare upstream incidents, provider calls and feedback.

use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};
use sightline_app::units::Micros;
use sightline_tracker::wire::{AuthEventType, RequestKind};

use super::catalog::{self, Api};
use super::random::Dice;
use super::security;
use crate::pricing::{PriceTable, TokenCounts};
use crate::store::{NewAuthEvent, NewFeedback, NewRequest, NewThreat};

/// A user of the demo platform.
pub struct DemoUser {
    pub id: String,
    pub country: &'static str,
    pub ip: String,
    pub user_agent: &'static str,
    /// When the user signed up: no traffic before.
    pub joined_at: i64,
}

/// What happened on the demo platform in a window of time.
#[derive(Default)]
pub struct DemoBatch {
    /// Oldest first.
    pub requests: Vec<NewRequest>,
    pub feedback: Vec<NewFeedback>,
    pub threats: Vec<NewThreat>,
    pub auth_events: Vec<NewAuthEvent>,
}

pub struct Generator {
    pub(super) dice: Dice,
    pub(super) users: Vec<DemoUser>,
    /// Cumulative activity weights of `users` (a few heavy users, a long tail).
    cumulative: Vec<f64>,
    per_day: f64,
    prices: PriceTable,
    /// An upstream incident in progress: `[start, end)`.
    incident: Option<(i64, i64)>,
    pub(super) attackers: Vec<(String, &'static str)>,
    /// Least requests per millisecond, whatever the hour (see [`Generator::live`]).
    min_rate: f64,
    /// Attacks a day on average (see [`Generator::without_attacks`]).
    threats_per_day: f64,
}

/// Mean requests of a session, and mean pause between them.
const SESSION_REQUESTS: f64 = 6.0;
const SESSION_PAUSE_MS: f64 = 45_000.0;
/// Chances per hour of an upstream incident starting, and per day of security threats.
const INCIDENTS_PER_HOUR: f64 = 1.0 / 100.0;
const THREATS_PER_DAY: f64 = 16.0;

impl Generator {
    /// A platform of `users` users with about `per_day` requests a day, the first of
    /// them active from `start`, the rest joining over time until `end`.
    pub fn new(seed: u64, users: u32, per_day: u32, start: i64, end: i64) -> Generator {
        let mut dice = Dice::new(seed);
        let users: Vec<DemoUser> = (0..users.max(1))
            .map(|i| DemoUser {
                id: format!("usr_{}", dice.hex(10)),
                country: dice.pick(catalog::COUNTRIES),
                ip: dice.public_ip(),
                user_agent: dice.pick(catalog::USER_AGENTS),
                joined_at: if i == 0 || dice.chance(0.7) {
                    start - 30 * DAY_MS
                } else {
                    dice.between(start, end.max(start + 1))
                },
            })
            .collect();
        let mut total = 0.0;
        let cumulative = (0..users.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0).powf(0.8);
                total
            })
            .collect();
        let attackers = (0..30)
            .map(|_| {
                let country = dice.pick(&[
                    ("CN", 25.0),
                    ("RU", 20.0),
                    ("US", 15.0),
                    ("BR", 10.0),
                    ("VN", 10.0),
                    ("NL", 10.0),
                    ("IR", 5.0),
                    ("KP", 5.0),
                ]);
                (dice.public_ip(), country)
            })
            .collect();
        Generator {
            dice,
            users,
            cumulative,
            per_day: f64::from(per_day),
            prices: PriceTable::defaults(),
            incident: None,
            attackers,
            min_rate: 0.0,
            threats_per_day: THREATS_PER_DAY,
        }
    }

    /// Ordinary traffic only: no attackers (to check detection raises nothing on it).
    pub fn without_attacks(mut self) -> Generator {
        self.threats_per_day = 0.0;
        self
    }

    /// For live traffic: at least one request every two seconds, even at night, so a
    /// dashboard left open visibly moves.
    pub fn live(mut self) -> Generator {
        self.min_rate = 0.5 / 1000.0;
        self
    }

    /// Expected requests per millisecond at instant `t`.
    fn rate(&self, t: i64) -> f64 {
        let hour_sum: f64 = catalog::HOURLY_SHAPE.iter().sum();
        let week_mean: f64 = catalog::WEEKLY_SHAPE.iter().sum::<f64>() / 7.0;
        let hour = ((t.rem_euclid(DAY_MS)) / HOUR_MS) as usize;
        // 1970-01-01 was a Thursday: day 0 is index 3 with Monday first.
        let weekday = ((t.div_euclid(DAY_MS) + 3).rem_euclid(7)) as usize;
        // Some days are busier than others, the same way on every run.
        let day = t.div_euclid(DAY_MS) as u64;
        let day_noise = 0.85 + 0.3 * ((day.wrapping_mul(2654435761) % 1000) as f64 / 1000.0);
        self.per_day * catalog::HOURLY_SHAPE[hour] / hour_sum * catalog::WEEKLY_SHAPE[weekday]
            / week_mean
            * day_noise
            / HOUR_MS as f64
    }

    /// A user active at `t`, heavy users more often.
    fn user_at(&mut self, t: i64) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        for _ in 0..20 {
            let x = self.dice.u() * total;
            let i = self
                .cumulative
                .partition_point(|&c| c <= x)
                .min(self.users.len() - 1);
            if self.users[i].joined_at <= t {
                return i;
            }
        }
        0
    }

    /// Everything that happens in `[start, end)` (at most an hour, within one hour).
    pub fn window(&mut self, start: i64, end: i64) -> DemoBatch {
        let mut batch = DemoBatch::default();
        if end <= start {
            return batch;
        }
        let span = (end - start) as f64;
        self.maybe_start_incident(start, end);
        let expected = self.rate(start).max(self.min_rate) * span * (0.9 + 0.2 * self.dice.u());
        // Rounded up or down at random, so short windows still see their share.
        let wanted = expected.floor() as usize + usize::from(self.dice.chance(expected.fract()));

        while batch.requests.len() < wanted {
            self.session(start, end, &mut batch);
        }
        for i in 0..self.users.len() {
            let joined = self.users[i].joined_at;
            if (start..end).contains(&joined) {
                batch
                    .auth_events
                    .push(self.auth_event(i, joined, AuthEventType::Signup, true));
            }
        }
        let expected_threats = self.threats_per_day * span / DAY_MS as f64;
        let threats = expected_threats.floor() as usize
            + usize::from(self.dice.chance(expected_threats.fract()));
        for _ in 0..threats {
            let t = self.dice.between(start, end);
            security::attack(self, t, &mut batch);
        }
        batch.requests.sort_by_key(|r| r.created_at);
        batch
    }

    fn maybe_start_incident(&mut self, start: i64, end: i64) {
        if self.incident.is_some_and(|(_, until)| until <= start) {
            self.incident = None;
        }
        let p = INCIDENTS_PER_HOUR * (end - start) as f64 / HOUR_MS as f64;
        if self.incident.is_none() && self.dice.chance(p) {
            let from = self.dice.between(start, end);
            self.incident = Some((from, from + self.dice.between(5, 25) * 60_000));
        }
    }

    /// One visit: a user (or an anonymous client) sends a few requests, then leaves.
    fn session(&mut self, start: i64, end: i64, batch: &mut DemoBatch) {
        let mut t = self.dice.between(start, end);
        let anonymous = self.dice.chance(0.05);
        let user = (!anonymous).then(|| self.user_at(t));
        let session_id =
            (!anonymous && self.dice.chance(0.55)).then(|| format!("sess_{}", self.dice.hex(16)));
        if let Some(u) = user {
            if self.dice.chance(0.25) {
                if self.dice.chance(0.05) {
                    batch.auth_events.push(self.auth_event(
                        u,
                        t - 4_000,
                        AuthEventType::LoginFailed,
                        false,
                    ));
                }
                batch
                    .auth_events
                    .push(self.auth_event(u, t - 1_000, AuthEventType::Login, true));
            }
            if self.dice.chance(0.003) {
                batch.auth_events.push(self.auth_event(
                    u,
                    t - 60_000,
                    AuthEventType::PasswordReset,
                    true,
                ));
            }
        }
        let count = 1 + self.dice.exponential(SESSION_REQUESTS - 1.0).round() as usize;
        for _ in 0..count {
            if t >= end {
                break;
            }
            self.request(user, session_id.clone(), t, batch);
            t += self.dice.exponential(SESSION_PAUSE_MS) as i64 + 500;
        }
        if let Some(u) = user {
            let last = batch.requests.last().map_or(t, |r| r.created_at);
            if self.dice.chance(0.35) {
                batch.auth_events.push(self.auth_event(
                    u,
                    last + 500,
                    AuthEventType::TokenRefresh,
                    true,
                ));
            }
            if self.dice.chance(0.12) {
                batch.auth_events.push(self.auth_event(
                    u,
                    last + 2_000,
                    AuthEventType::Logout,
                    true,
                ));
            }
        }
    }

    pub(super) fn auth_event(
        &self,
        user: usize,
        t: i64,
        event_type: AuthEventType,
        success: bool,
    ) -> NewAuthEvent {
        let u = &self.users[user];
        NewAuthEvent {
            created_at: t,
            event_type,
            user_id: Some(u.id.clone()),
            ip: Some(u.ip.clone()),
            user_agent: Some(u.user_agent.to_string()),
            success,
            error: (!success).then(|| "invalid_credentials".to_string()),
            metadata: None,
        }
    }

    /// A failed request's message, with the variable parts real platforms put in them
    /// (numbers, ids, quoted values, addresses), so the errors view has groups to show.
    fn error_message(
        &mut self,
        status: i32,
        t: i64,
        model: Option<&str>,
        user: Option<&str>,
    ) -> String {
        let in_incident = self
            .incident
            .is_some_and(|(from, until)| (from..until).contains(&t));
        let d = &mut self.dice;
        let model = model.unwrap_or("gpt-4o-mini");
        match status {
            400 if d.chance(0.5) => format!(
                "invalid_request_error: max_tokens {} exceeds the limit of {} for '{model}'",
                d.between(4_100, 40_000),
                [4_096, 8_192, 16_384][d.between(0, 3) as usize]
            ),
            401 => format!(
                "invalid_api_key: Incorrect API key provided: sk-{}",
                d.hex(24)
            ),
            403 => format!(
                "permission_denied: key sl_{} cannot use the model '{model}'",
                d.hex(8)
            ),
            404 => format!("not_found: file-{} does not exist", d.hex(24)),
            413 => format!(
                "request_too_large: {} tokens exceed the maximum context length of 128000",
                d.between(128_001, 400_000)
            ),
            422 => format!(
                "unprocessable_entity: 'temperature' must be between 0 and 2, got {}.{}",
                d.between(2, 9),
                d.between(0, 10)
            ),
            429 => format!(
                "rate_limit_exceeded: {} requests per minute for user '{}', retry after {}s",
                [60, 120, 600][d.between(0, 3) as usize],
                user.unwrap_or("anonymous"),
                d.between(1, 60)
            ),
            500 if d.chance(0.4) => format!(
                "internal_error: database pool exhausted after {} ms (request {})",
                d.between(5_000, 30_000),
                d.uuid_v7(t)
            ),
            502 | 503 if in_incident => format!(
                "upstream_unavailable: provider region {} degraded, request {} shed",
                ["us-east-1", "eu-west-1"][d.between(0, 2) as usize],
                d.uuid_v7(t)
            ),
            502 => format!(
                "bad_gateway: upstream {}.{}.{}.{}:443 returned an invalid response",
                d.between(10, 200),
                d.between(0, 255),
                d.between(0, 255),
                d.between(1, 255)
            ),
            504 => format!(
                "gateway_timeout: upstream did not answer within {} ms",
                d.between(30_000, 60_000)
            ),
            _ => catalog::error_text(status).to_string(),
        }
    }

    fn status_at(&mut self, t: i64) -> i32 {
        match self.incident {
            Some((from, until)) if (from..until).contains(&t) && self.dice.chance(0.3) => {
                self.dice.pick(catalog::INCIDENT_STATUSES)
            }
            _ => self.dice.pick(catalog::STATUSES),
        }
    }

    fn request(
        &mut self,
        user: Option<usize>,
        session_id: Option<String>,
        t: i64,
        batch: &mut DemoBatch,
    ) {
        let (api, method, endpoint) = if user.is_none() && self.dice.chance(0.6) {
            (Api::Models, "GET", "/v1/models")
        } else {
            self.dice.pick(catalog::ENDPOINTS)
        };
        let mut status = self.status_at(t);
        if user.is_none() && status == 200 && api != Api::Models && self.dice.chance(0.5) {
            status = 401; // anonymous calls to paid APIs are refused
        }
        let ok = status < 400;
        let d = &mut self.dice;
        let (model, chat_model) = match api {
            Api::Chat | Api::Completions => {
                let m = d.pick(catalog::CHAT_MODELS);
                (Some(m.name), Some(m))
            }
            Api::Embeddings => (Some(d.pick(catalog::EMBEDDING_MODELS)), None),
            Api::Images => (Some("gpt-image-1"), None),
            Api::Moderations => (Some("omni-moderation-latest"), None),
            Api::Models | Api::Files => (None, None),
        };
        let (prompt_tokens, completion_tokens) = match api {
            Api::Chat | Api::Completions => (
                d.lognormal(650.0, 0.9) as i64 + 8,
                if ok {
                    d.lognormal(220.0, 0.8) as i64 + 1
                } else {
                    0
                },
            ),
            Api::Embeddings => (d.lognormal(380.0, 0.8) as i64 + 1, 0),
            Api::Moderations => (d.lognormal(120.0, 0.6) as i64 + 1, 0),
            Api::Images => (d.lognormal(60.0, 0.4) as i64 + 1, 0),
            Api::Models | Api::Files => (0, 0),
        };
        let (latency_ms, ttft_ms) = match (ok, chat_model) {
            (true, Some(m)) => {
                let ttft = d.lognormal(m.ttft_ms, 0.35);
                (
                    ttft + completion_tokens as f64 * m.ms_per_token * d.lognormal(1.0, 0.2),
                    Some(ttft),
                )
            }
            (true, None) => match api {
                Api::Embeddings => (d.lognormal(90.0, 0.4), None),
                Api::Images => (d.lognormal(7_500.0, 0.3), None),
                Api::Files => (d.lognormal(350.0, 0.5), None),
                _ => (d.lognormal(25.0, 0.4), None),
            },
            (false, _) => match status {
                504 => (30_000.0 + d.u() * 150.0, None),
                502 | 503 => (d.lognormal(1_200.0, 0.6), None),
                500 => (d.lognormal(400.0, 0.7), None),
                429 => (d.lognormal(3.0, 0.3), None),
                _ => (d.lognormal(14.0, 0.5), None),
            },
        };
        let tokens = TokenCounts {
            prompt: prompt_tokens,
            completion: completion_tokens,
            ..cached_part(chat_model.map(|m| m.provider), prompt_tokens)
        };
        let cost_micros = match (ok, api, model) {
            (false, _, _) => Micros::ZERO,
            (true, Api::Images, _) => Micros(40_000),
            (true, _, Some(m)) => self.prices.cost_micros(m, &tokens).unwrap_or_default(),
            _ => Micros::ZERO,
        };
        let finish_reason = (ok && chat_model.is_some())
            .then(|| self.dice.pick(catalog::FINISH_REASONS).to_string());
        let (user_id, ip, country, user_agent) = match user {
            Some(u) => {
                let u = &self.users[u];
                (
                    Some(u.id.clone()),
                    u.ip.clone(),
                    Some(u.country),
                    u.user_agent,
                )
            }
            None => (
                None,
                self.dice.public_ip(),
                Some(self.dice.pick(catalog::COUNTRIES)),
                "curl/8.5.0",
            ),
        };
        let request_id = self.dice.uuid_v7(t);
        let error = (!ok).then(|| self.error_message(status, t, model, user_id.as_deref()));
        let row = NewRequest {
            endpoint: endpoint.to_string(),
            method: method.to_string(),
            status_code: status,
            latency_ms: round3(latency_ms),
            ttft_ms: ttft_ms.map(round3),
            model_name: model.map(str::to_string),
            prompt_tokens,
            completion_tokens,
            cache_read_tokens: tokens.cache_read,
            cache_write_tokens: tokens.cache_write,
            reasoning_tokens: tokens.reasoning,
            cost_micros,
            finish_reason,
            user_id: user_id.clone(),
            session_id,
            is_authenticated: user.is_some(),
            ip: Some(ip),
            country: country.map(str::to_string),
            user_agent: Some(user_agent.to_string()),
            request_bytes: Some(prompt_tokens * 4 + 180),
            response_bytes: Some(if ok { completion_tokens * 4 + 320 } else { 160 }),
            error,
            ..NewRequest::new(request_id.clone(), t)
        };

        // A share of chat calls is also recorded as the platform's own call to its
        // provider, made on the user's behalf (so it counts as their provider cost).
        if let (true, Some(m)) = (ok, chat_model)
            && self.dice.chance(0.2)
        {
            let mut call = row.clone();
            call.request_id = self.dice.uuid_v7(t + 3);
            call.created_at = t + 3;
            call.kind = RequestKind::External;
            call.service = Some(m.provider.to_string());
            call.endpoint = catalog::provider_endpoint(m.provider).to_string();
            call.latency_ms = round3(row.latency_ms * 0.93);
            call.session_id = None;
            call.ip = None;
            call.country = None;
            call.user_agent = Some("sightline-demo-platform/1.0".into());
            batch.requests.push(call);
        }
        if ok && api == Api::Chat && self.dice.chance(0.04) {
            let rating = self.dice.pick(catalog::RATINGS);
            let comment = self
                .dice
                .chance(0.35)
                .then(|| catalog::feedback_comment(rating, self.dice.u()).to_string());
            batch.feedback.push(NewFeedback {
                request_id,
                user_id: user_id.unwrap_or_default(),
                rating,
                comment,
                created_at: t + self.dice.between(20_000, 900_000),
            });
        }
        batch.requests.push(row);
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The start of the hour after `t`.
pub fn next_hour(t: i64) -> i64 {
    floor_ms(t, HOUR_MS) + HOUR_MS
}

/// The cached part of a long prompt, as providers cache it: a third of the long prompts
/// repeat a cached prefix of half their length (in blocks of 128 tokens); on Anthropic
/// another third writes one. Derived from the count, so the random sequence is unchanged.
fn cached_part(provider: Option<&str>, prompt_tokens: i64) -> TokenCounts {
    let prefix = prompt_tokens / 2 / 128 * 128;
    let mut t = TokenCounts::default();
    if prompt_tokens < 1_024 {
        return t;
    }
    match (provider, prompt_tokens % 3) {
        (Some("openai" | "anthropic"), 0) => t.cache_read = prefix,
        (Some("anthropic"), 1) => t.cache_write = prefix,
        _ => {}
    }
    t
}
