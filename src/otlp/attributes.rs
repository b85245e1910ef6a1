//! Reading OTLP attributes by name: the first of several names (current semantic
//! conventions first, then legacy ones) that holds a usable value.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

/// The attributes of one span (or resource, or event).
#[derive(Clone, Copy)]
pub struct Attributes<'a>(pub &'a [KeyValue]);

impl<'a> Attributes<'a> {
    fn value(&self, key: &str) -> Option<&'a Value> {
        self.0
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    /// Whether any of `keys` is set.
    pub fn has_any(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.value(k).is_some())
    }

    /// The first of `keys` that holds a non-empty string (numbers and booleans are
    /// written out, as some instrumentations send ids as numbers).
    pub fn text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| match self.value(k)? {
            Value::StringValue(s) if !s.is_empty() => Some(s.clone()),
            Value::IntValue(i) => Some(i.to_string()),
            Value::BoolValue(b) => Some(b.to_string()),
            _ => None,
        })
    }

    /// The first of `keys` that holds an integer (an integral double or a decimal
    /// string counts too; anything else is not one).
    pub fn int(&self, keys: &[&str]) -> Option<i64> {
        keys.iter().find_map(|k| match self.value(k)? {
            Value::IntValue(i) => Some(*i),
            Value::DoubleValue(d) if d.fract() == 0.0 && d.abs() < 9.0e15 => Some(*d as i64),
            Value::StringValue(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// The first string of the first of `keys` that holds an array of strings (or a
    /// plain string).
    pub fn first_of_list(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| match self.value(k)? {
            Value::ArrayValue(a) => a.values.iter().find_map(|v| match &v.value {
                Some(Value::StringValue(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            }),
            Value::StringValue(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
    }

    /// The text of every one of `keys` that is set, structured values written out as
    /// JSON-like text: what a prompt-injection check reads.
    pub fn content(&self, keys: &[&str], out: &mut Vec<String>) {
        for k in keys {
            if let Some(v) = self.value(k) {
                let text = flatten(v);
                if !text.is_empty() {
                    out.push(text);
                }
            }
        }
    }
}

/// Every string inside a value, one per line (message lists are arrays of objects).
fn flatten(v: &Value) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::StringValue(s) => out.push(s.clone()),
            Value::ArrayValue(a) => a.values.iter().for_each(|x| walk_any(x, out)),
            Value::KvlistValue(kv) => kv
                .values
                .iter()
                .filter_map(|kv| kv.value.as_ref())
                .for_each(|x| walk_any(x, out)),
            _ => {}
        }
    }
    fn walk_any(v: &AnyValue, out: &mut Vec<String>) {
        if let Some(v) = &v.value {
            walk(v, out);
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::ArrayValue;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn the_first_name_with_a_usable_value_wins() {
        let attrs = vec![
            kv("http.method", Value::StringValue("GET".into())),
            kv("http.request.method", Value::StringValue(String::new())),
            kv("gen_ai.usage.input_tokens", Value::StringValue("12".into())),
            kv("legacy", Value::DoubleValue(7.0)),
            kv("frac", Value::DoubleValue(7.5)),
        ];
        let a = Attributes(&attrs);
        assert_eq!(
            a.text(&["http.request.method", "http.method"]).as_deref(),
            Some("GET")
        );
        assert_eq!(a.int(&["gen_ai.usage.input_tokens"]), Some(12));
        assert_eq!(a.int(&["missing", "legacy"]), Some(7));
        assert_eq!(a.int(&["frac"]), None);
    }

    #[test]
    fn lists_give_their_first_string_and_content_every_string() {
        let list = Value::ArrayValue(ArrayValue {
            values: vec![
                AnyValue {
                    value: Some(Value::StringValue("stop".into())),
                },
                AnyValue {
                    value: Some(Value::StringValue("length".into())),
                },
            ],
        });
        let attrs = vec![kv("gen_ai.response.finish_reasons", list)];
        let a = Attributes(&attrs);
        assert_eq!(
            a.first_of_list(&["gen_ai.response.finish_reasons"])
                .as_deref(),
            Some("stop")
        );
        let mut out = Vec::new();
        a.content(&["gen_ai.response.finish_reasons"], &mut out);
        assert_eq!(out, vec!["stop\nlength".to_string()]);
    }
}
