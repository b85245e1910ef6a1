//! Model, tokens and finish reason from a provider's answer: the `usage` block of a
//! JSON body, or the events of a stream (OpenAI's final usage chunk; Anthropic's
//! `message_start` and `message_delta`). Converted to Sightline's meaning of the
//! token fields: `prompt` counts every input token, cached ones included, and
//! `completion` every output token, reasoning included.
//!
//! - OpenAI (and compatible servers): `prompt_tokens` already includes
//!   `prompt_tokens_details.cached_tokens`, and `completion_tokens` includes
//!   `completion_tokens_details.reasoning_tokens`; they are taken as they are. The
//!   Responses API's `input_tokens`/`output_tokens` mean the same. DeepSeek's
//!   `prompt_cache_hit_tokens` is its cached part.
//! - Anthropic: `input_tokens` excludes `cache_read_input_tokens` and
//!   `cache_creation_input_tokens`, so the prompt is the sum of the three.

use serde_json::Value;

use super::Flavor;
use super::sse::Event;
use crate::pricing::TokenCounts;

/// What a call's answer said about itself. `tokens` is `None` when the answer carried
/// no usage (a stream without `stream_options.include_usage`, an error): unknown, not 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub model: Option<String>,
    pub tokens: Option<TokenCounts>,
    pub finish_reason: Option<String>,
    /// The message of an error answer (`error.message`, OpenAI's and Anthropic's shape).
    pub error: Option<String>,
}

/// Reads an answer as it arrives.
#[derive(Debug)]
pub struct UsageReader {
    flavor: Flavor,
    /// The stream's own last event was read (`[DONE]`, `message_stop`, a final
    /// `response.*` event): the answer is whole even if the client hangs up after it.
    ended: bool,
    model: Option<String>,
    finish_reason: Option<String>,
    error: Option<String>,
    /// As the provider reports them (Anthropic's input excludes the cache tokens).
    input: Option<i64>,
    output: Option<i64>,
    cache_read: Option<i64>,
    cache_write: Option<i64>,
    reasoning: Option<i64>,
}

/// A count at `path` under `v`, if it is a non-negative integer.
fn count(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .and_then(Value::as_u64)
        .and_then(|n| i64::try_from(n).ok())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn non_empty(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

impl UsageReader {
    pub fn new(flavor: Flavor) -> UsageReader {
        UsageReader {
            flavor,
            ended: false,
            model: None,
            finish_reason: None,
            error: None,
            input: None,
            output: None,
            cache_read: None,
            cache_write: None,
            reasoning: None,
        }
    }

    /// Reads a whole JSON answer (not streamed).
    pub fn json_body(&mut self, body: &[u8]) {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            self.message(&v);
        }
    }

    /// Reads one event of a stream; says whether it carried generated output (the
    /// first such event is the time to first token).
    pub fn event(&mut self, event: &Event) -> bool {
        if event.data == "[DONE]" {
            self.ended = true;
            return false;
        }
        let Ok(v) = serde_json::from_str::<Value>(&event.data) else {
            return false; // pings
        };
        if matches!(
            v.get("type").and_then(Value::as_str),
            Some("message_stop" | "response.completed" | "response.failed" | "response.incomplete")
        ) {
            self.ended = true;
        }
        match self.flavor {
            Flavor::OpenAi => {
                self.message(v.get("response").filter(|r| r.is_object()).unwrap_or(&v));
                let delta_out = v
                    .get("choices")
                    .and_then(Value::as_array)
                    .is_some_and(|choices| {
                        choices.iter().any(|c| {
                            let d = c.get("delta");
                            [
                                "content",
                                "tool_calls",
                                "reasoning_content",
                                "reasoning",
                                "refusal",
                            ]
                            .iter()
                            .any(|k| non_empty(d.and_then(|d| d.get(*k))))
                        })
                    });
                delta_out
                    || v.get("type").and_then(Value::as_str) == Some("response.output_text.delta")
            }
            Flavor::Anthropic => match v.get("type").and_then(Value::as_str) {
                Some("message_start") => {
                    if let Some(m) = v.get("message") {
                        self.message(m);
                    }
                    false
                }
                Some("message_delta") => {
                    if let Some(reason) = v.get("delta").and_then(|d| text(d, "stop_reason")) {
                        self.finish_reason = Some(reason);
                    }
                    if let Some(u) = v.get("usage") {
                        self.anthropic_usage(u);
                    }
                    false
                }
                Some("content_block_delta") => true,
                _ => false,
            },
        }
    }

    /// A whole message (a JSON answer, OpenAI chunk, Responses API object or
    /// Anthropic's `message_start` message): model, finish reason and usage.
    fn message(&mut self, m: &Value) {
        if let Some(model) = text(m, "model") {
            self.model = Some(model);
        }
        if let Some(message) = m.get("error").and_then(|e| text(e, "message")) {
            self.error = Some(message.chars().take(2000).collect());
        }
        match self.flavor {
            Flavor::OpenAi => {
                let reason = m
                    .get("choices")
                    .and_then(Value::as_array)
                    .and_then(|c| c.iter().rev().find_map(|c| text(c, "finish_reason")));
                if reason.is_some() {
                    self.finish_reason = reason;
                }
                if let Some(u) = m.get("usage").filter(|u| u.is_object()) {
                    self.openai_usage(u);
                }
            }
            Flavor::Anthropic => {
                if let Some(reason) = text(m, "stop_reason") {
                    self.finish_reason = Some(reason);
                }
                if let Some(u) = m.get("usage") {
                    self.anthropic_usage(u);
                }
            }
        }
    }

    fn openai_usage(&mut self, u: &Value) {
        let first = |paths: &[&[&str]]| paths.iter().find_map(|p| count(u, p));
        self.input = first(&[&["prompt_tokens"], &["input_tokens"]]).or(self.input);
        self.output = first(&[&["completion_tokens"], &["output_tokens"]]).or(self.output);
        self.cache_read = first(&[
            &["prompt_tokens_details", "cached_tokens"],
            &["input_tokens_details", "cached_tokens"],
            &["prompt_cache_hit_tokens"],
        ])
        .or(self.cache_read);
        self.cache_write = first(&[
            &["prompt_tokens_details", "cache_write_tokens"],
            &["input_tokens_details", "cache_write_tokens"],
        ])
        .or(self.cache_write);
        self.reasoning = first(&[
            &["completion_tokens_details", "reasoning_tokens"],
            &["output_tokens_details", "reasoning_tokens"],
        ])
        .or(self.reasoning);
    }

    /// Anthropic's usage; in a stream, `message_delta` repeats the counts cumulatively,
    /// so a later value replaces an earlier one.
    fn anthropic_usage(&mut self, u: &Value) {
        self.input = count(u, &["input_tokens"]).or(self.input);
        self.output = count(u, &["output_tokens"]).or(self.output);
        self.cache_read = count(u, &["cache_read_input_tokens"]).or(self.cache_read);
        self.cache_write = count(u, &["cache_creation_input_tokens"]).or(self.cache_write);
    }

    /// What was read, in Sightline's meaning of the token fields.
    /// Whether the stream's last event has been read.
    pub fn ended(&self) -> bool {
        self.ended
    }

    pub fn usage(&self) -> Usage {
        let tokens = (self.input.is_some() || self.output.is_some()).then(|| {
            let (cache_read, cache_write) =
                (self.cache_read.unwrap_or(0), self.cache_write.unwrap_or(0));
            let prompt = match self.flavor {
                Flavor::OpenAi => self.input.unwrap_or(0),
                Flavor::Anthropic => self.input.unwrap_or(0) + cache_read + cache_write,
            };
            let completion = self.output.unwrap_or(0);
            // The parts can never exceed their whole, even if a server says so.
            let cache_read = cache_read.min(prompt);
            TokenCounts {
                prompt,
                completion,
                cache_read,
                cache_write: cache_write.min(prompt - cache_read),
                reasoning: self.reasoning.unwrap_or(0).min(completion),
            }
        });
        Usage {
            model: self.model.clone(),
            tokens,
            finish_reason: self.finish_reason.clone(),
            error: self.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sse::SseParser;
    use super::*;

    fn streamed(flavor: Flavor, body: &str) -> (Usage, usize) {
        let mut reader = UsageReader::new(flavor);
        let mut outputs = 0;
        SseParser::default().feed(body.as_bytes(), |e| {
            outputs += usize::from(reader.event(&e));
        });
        (reader.usage(), outputs)
    }

    #[test]
    fn a_stream_has_ended_once_its_last_event_is_read() {
        let read = |flavor, body: &str| {
            let mut reader = UsageReader::new(flavor);
            SseParser::default().feed(body.as_bytes(), |e| {
                reader.event(&e);
            });
            reader.ended()
        };
        let chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n";
        assert!(!read(Flavor::OpenAi, chunk));
        assert!(read(Flavor::OpenAi, &format!("{chunk}data: [DONE]\n\n")));
        assert!(read(
            Flavor::OpenAi,
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{}}\n\n"
        ));
        let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n";
        assert!(!read(Flavor::Anthropic, start));
        assert!(read(
            Flavor::Anthropic,
            &format!("{start}event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n")
        ));
    }

    #[test]
    fn openai_prompt_tokens_already_include_the_cached_ones() {
        let mut r = UsageReader::new(Flavor::OpenAi);
        r.json_body(br#"{"id":"chatcmpl-1","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":2000,"completion_tokens":300,"total_tokens":2300,
            "prompt_tokens_details":{"cached_tokens":1536},"completion_tokens_details":{"reasoning_tokens":64}}}"#);
        assert_eq!(
            r.usage(),
            Usage {
                model: Some("gpt-4o-2024-08-06".into()),
                tokens: Some(TokenCounts {
                    prompt: 2000,
                    completion: 300,
                    cache_read: 1536,
                    cache_write: 0,
                    reasoning: 64
                }),
                finish_reason: Some("stop".into()),
                error: None,
            }
        );
    }

    #[test]
    fn an_openai_stream_reports_usage_in_its_last_chunk_or_not_at_all() {
        let chunks = "data: {\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n\
            data: {\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n\
            data: {\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n";
        let usage = "data: {\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n";
        let (u, outputs) = streamed(Flavor::OpenAi, &format!("{chunks}{usage}data: [DONE]\n\n"));
        assert_eq!(outputs, 2, "the role-only chunk is no token");
        assert_eq!(u.finish_reason.as_deref(), Some("stop"));
        assert_eq!(u.tokens.map(|t| (t.prompt, t.completion)), Some((12, 2)));
        let (u, _) = streamed(Flavor::OpenAi, &format!("{chunks}data: [DONE]\n\n"));
        assert_eq!(u.tokens, None);
        assert_eq!(u.model.as_deref(), Some("gpt-4o-mini"));
    }

    #[test]
    fn anthropic_input_tokens_exclude_the_cache_tokens() {
        let mut r = UsageReader::new(Flavor::Anthropic);
        r.json_body(br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
            "content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,
            "usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":10000,"output_tokens":500}}"#);
        assert_eq!(
            r.usage().tokens,
            Some(TokenCounts {
                prompt: 12_100,
                completion: 500,
                cache_read: 10_000,
                cache_write: 2_000,
                reasoning: 0
            })
        );
        assert_eq!(r.usage().finish_reason.as_deref(), Some("end_turn"));
    }

    #[test]
    fn an_anthropic_stream_reports_input_at_the_start_and_output_at_the_end() {
        let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":1024,\"output_tokens\":1}}}\n\n\
            event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
            event: ping\ndata: {\"type\": \"ping\"}\n\n\
            event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n\
            event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
            event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n\
            event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let (u, outputs) = streamed(Flavor::Anthropic, body);
        assert_eq!(outputs, 1);
        assert_eq!(
            u,
            Usage {
                model: Some("claude-haiku-4-5".into()),
                tokens: Some(TokenCounts {
                    prompt: 1049,
                    completion: 15,
                    cache_read: 1024,
                    cache_write: 0,
                    reasoning: 0
                }),
                finish_reason: Some("end_turn".into()),
                error: None,
            }
        );
    }

    #[test]
    fn embeddings_and_other_servers_dialects() {
        let mut r = UsageReader::new(Flavor::OpenAi);
        r.json_body(br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#);
        assert_eq!(
            r.usage().tokens.map(|t| (t.prompt, t.completion)),
            Some((8, 0))
        );
        let mut r = UsageReader::new(Flavor::OpenAi);
        r.json_body(br#"{"model":"deepseek-chat","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}"#);
        assert_eq!(r.usage().tokens.map(|t| t.cache_read), Some(64));
        // A server that claims more cached tokens than prompt tokens is held to the whole.
        let mut r = UsageReader::new(Flavor::OpenAi);
        r.json_body(br#"{"usage":{"prompt_tokens":10,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":99}}}"#);
        assert_eq!(r.usage().tokens.map(|t| t.cache_read), Some(10));
        let mut r = UsageReader::new(Flavor::OpenAi);
        r.json_body(b"not json");
        assert_eq!(r.usage(), Usage::default());
        let mut r = UsageReader::new(Flavor::Anthropic);
        r.json_body(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(r.usage().error.as_deref(), Some("Overloaded"));
    }
}
