//! The labelled corpora detection is measured on (`tests/corpora/`, with their sources
//! and licences in its README): attacks and benign traffic from public sets Sightline's
//! rules were not written from, and how many of each the detectors flag. The
//! `detection` bench prints the table; a unit test holds the figures as floors.
//!
//! A corpus is a file `SOURCE/LABEL.jsonl`, one JSON string a line: a request target
//! (`/path?query`, as sent on the wire) for web labels, a prompt for prompt labels.

use std::fmt;
use std::path::{Path, PathBuf};

use sightline_tracker::wire::ThreatType;

use super::inspect::{Engines, RequestText, inspect_with};

/// What the lines of a corpus are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    SqlInjection,
    Xss,
    PathTraversal,
    CommandInjection,
    /// Ordinary requests: every flag is a false positive.
    Benign,
    PromptInjection,
    /// Ordinary prompts.
    BenignPrompt,
}

impl Label {
    pub const ALL: [Label; 7] = [
        Label::SqlInjection,
        Label::Xss,
        Label::PathTraversal,
        Label::CommandInjection,
        Label::Benign,
        Label::PromptInjection,
        Label::BenignPrompt,
    ];

    /// The file stem of the label's corpora.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::SqlInjection => "sql_injection",
            Label::Xss => "xss",
            Label::PathTraversal => "path_traversal",
            Label::CommandInjection => "command_injection",
            Label::Benign => "benign",
            Label::PromptInjection => "prompt_injection",
            Label::BenignPrompt => "benign_prompt",
        }
    }

    /// Whether the lines are attacks (a flag is a catch) or ordinary (a flag is a false
    /// positive).
    pub fn is_attack(self) -> bool {
        !matches!(self, Label::Benign | Label::BenignPrompt)
    }

    pub fn is_prompt(self) -> bool {
        matches!(self, Label::PromptInjection | Label::BenignPrompt)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}:{1}: not a JSON string: {2}")]
    Line(PathBuf, usize, serde_json::Error),
}

/// One labelled set of one source.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub source: String,
    pub label: Label,
    pub lines: Vec<String>,
}

/// The folder of the corpora in this repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora")
}

/// Every corpus under `dir` (`SOURCE/LABEL.jsonl`), by source then label.
pub fn load(dir: &Path) -> Result<Vec<Corpus>, CorpusError> {
    let read_dir = |d: &Path| std::fs::read_dir(d).map_err(|e| CorpusError::Read(d.into(), e));
    let mut out = Vec::new();
    for source in read_dir(dir)? {
        let source = source.map_err(|e| CorpusError::Read(dir.into(), e))?.path();
        if !source.is_dir() {
            continue;
        }
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for label in Label::ALL {
            let file = source.join(format!("{label}.jsonl"));
            if !file.exists() {
                continue;
            }
            let text =
                std::fs::read_to_string(&file).map_err(|e| CorpusError::Read(file.clone(), e))?;
            let lines = text
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    serde_json::from_str(l).map_err(|e| CorpusError::Line(file.clone(), i + 1, e))
                })
                .collect::<Result<_, _>>()?;
            out.push(Corpus {
                source: name.clone(),
                label,
                lines,
            });
        }
    }
    out.sort_by(|a, b| (&a.source, a.label).cmp(&(&b.source, b.label)));
    Ok(out)
}

/// A corpus line as detection reads a request: a target is split into path and query
/// string; a prompt goes to the prompt field of a chat completion.
pub fn request_text(label: Label, line: &str) -> RequestText<'_> {
    if label.is_prompt() {
        return RequestText {
            endpoint: "/v1/chat/completions",
            prompt: Some(line),
            ..RequestText::default()
        };
    }
    let (path, query) = match line.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (line, None),
    };
    RequestText {
        endpoint: path,
        path: Some(path),
        query,
        ..RequestText::default()
    }
}

/// Whether the findings flag what a line of `label` is about: any attack type for web
/// lines (an XSS reported as SQL injection is still caught), prompt injection for
/// prompts.
pub fn flagged(label: Label, engines: Engines, line: &str) -> bool {
    let found = inspect_with(&request_text(label, line), engines);
    found.iter().any(|f| {
        if label.is_prompt() {
            f.threat_type == ThreatType::PromptInjection
        } else {
            matches!(
                f.threat_type,
                ThreatType::SqlInjection
                    | ThreatType::Xss
                    | ThreatType::PathTraversal
                    | ThreatType::SuspiciousContent
            )
        }
    })
}

/// Lines of a corpus, and how many the detectors flagged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub lines: usize,
    pub flagged: usize,
}

impl Score {
    pub fn add(&mut self, other: Score) {
        self.lines += other.lines;
        self.flagged += other.flagged;
    }

    /// Flagged lines in percent (recall for attacks, false-positive rate for benign).
    pub fn percent(&self) -> f64 {
        if self.lines == 0 {
            return 0.0;
        }
        100.0 * self.flagged as f64 / self.lines as f64
    }
}

pub fn score(corpus: &Corpus, engines: Engines) -> Score {
    Score {
        lines: corpus.lines.len(),
        flagged: corpus
            .lines
            .iter()
            .filter(|l| flagged(corpus.label, engines, l))
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detection figures of `tests/corpora/` (see BENCHMARKS.md), as floors for
    /// attacks and ceilings for benign sets: a change that loses recall or adds false
    /// positives fails here. Flagged lines out of the corpus's lines.
    #[test]
    fn detection_on_the_public_corpora_holds_its_figures() {
        let corpora = load(&default_dir()).expect("the corpora load");
        let expected: &[(&str, Label, usize, usize)] = &[
            ("bastioncorpus", Label::PromptInjection, 49, 117),
            ("bastioncorpus", Label::BenignPrompt, 0, 63),
            ("crs", Label::SqlInjection, 183, 287),
            ("crs", Label::Xss, 96, 118),
            ("crs", Label::PathTraversal, 38, 45),
            ("crs", Label::CommandInjection, 298, 345),
            ("crs", Label::Benign, 5, 98),
            ("forms", Label::Benign, 0, 7964),
            ("libinjection", Label::SqlInjection, 1901, 1914),
            ("libinjection", Label::Xss, 1650, 1652),
            ("libinjection", Label::Benign, 22, 416),
            ("payloadsallthethings", Label::SqlInjection, 1265, 1276),
            ("payloadsallthethings", Label::Xss, 456, 466),
            ("payloadsallthethings", Label::PathTraversal, 1590, 1664),
            ("payloadsallthethings", Label::CommandInjection, 453, 483),
            ("spikee", Label::BenignPrompt, 0, 162),
        ];
        let got: Vec<(&str, Label, usize, usize)> = corpora
            .iter()
            .map(|c| {
                let s = score(c, Engines::ALL);
                (c.source.as_str(), c.label, s.flagged, s.lines)
            })
            .collect();
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for (g, e) in got.iter().zip(expected) {
            assert_eq!((g.0, g.1, g.3), (e.0, e.1, e.3), "corpus changed: {g:?}");
            if g.1.is_attack() {
                assert!(
                    g.2 >= e.2,
                    "recall fell on {}/{}: {} < {}",
                    g.0,
                    g.1,
                    g.2,
                    e.2
                );
            } else {
                assert!(
                    g.2 <= e.2,
                    "more false positives on {}/{}: {} > {}",
                    g.0,
                    g.1,
                    g.2,
                    e.2
                );
            }
        }
    }

    #[test]
    fn lines_become_requests_and_prompts() {
        let r = request_text(Label::Xss, "/get/bar?test=x&y=%3Cb%3E");
        assert_eq!(
            (r.endpoint, r.path, r.query),
            ("/get/bar", Some("/get/bar"), Some("test=x&y=%3Cb%3E"))
        );
        let r = request_text(Label::PathTraversal, "/.git/config");
        assert_eq!((r.path, r.query), (Some("/.git/config"), None));
        let p = request_text(Label::BenignPrompt, "What is 2+2?");
        assert_eq!((p.prompt, p.query), (Some("What is 2+2?"), None));
    }

    #[test]
    fn a_bad_line_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/xss.jsonl"), "\"<x>\"\nnot json\n").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("src/xss.jsonl:2: not a JSON string"), "{err}");
    }
}
