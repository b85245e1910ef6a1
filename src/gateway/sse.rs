//! Server-sent events read as they stream past: the bytes are forwarded untouched,
//! and a copy is split into events (`event:` and `data:` lines, a blank line ends one)
//! for the usage reader.

/// Longest line kept; a longer one (no provider sends such) is skipped whole.
const MAX_LINE: usize = 1024 * 1024;

/// One event: its `event:` name, if any, and its `data:` lines joined by `\n`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// Splits a byte stream into events, whatever the chunk boundaries.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    skipping: bool,
    current: Event,
    has_data: bool,
}

impl SseParser {
    /// Reads `chunk`, calling `each` for every event it completes.
    pub fn feed(&mut self, chunk: &[u8], mut each: impl FnMut(Event)) {
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            let ended = part.last() == Some(&b'\n');
            if !self.skipping {
                if self.line.len() + part.len() > MAX_LINE {
                    self.skipping = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            if ended && !std::mem::take(&mut self.skipping) {
                let line = std::mem::take(&mut self.line);
                self.line_ended(&line, &mut each);
                self.line = line;
                self.line.clear();
            }
        }
    }

    fn line_ended(&mut self, raw: &[u8], each: &mut impl FnMut(Event)) {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if self.has_data {
                self.has_data = false;
                each(std::mem::take(&mut self.current));
            } else {
                self.current = Event::default();
            }
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.current.name = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<Event> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            parser.feed(c, |e| out.push(e));
        }
        out
    }

    #[test]
    fn events_are_whole_whatever_the_chunks() {
        let stream: &[u8] = b"event: message_start\ndata: {\"a\":1}\n\n: comment\ndata: x\r\ndata: y\r\n\r\ndata: [DONE]\n\n";
        let expected = vec![
            Event {
                name: Some("message_start".into()),
                data: "{\"a\":1}".into(),
            },
            Event {
                name: None,
                data: "x\ny".into(),
            },
            Event {
                name: None,
                data: "[DONE]".into(),
            },
        ];
        assert_eq!(events(&[stream]), expected);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(events(&bytes), expected);
        assert_eq!(events(&[&stream[..20], &stream[20..]]), expected);
    }

    #[test]
    fn an_event_without_its_blank_line_is_not_complete() {
        assert_eq!(events(&[b"data: {\"partial\":true}\n"]), vec![]);
    }
}
