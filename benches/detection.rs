//! Threat detection on public labelled corpora (`tests/corpora/`, sources and licences
//! in its README): recall per attack class and false positives per benign set, for
//! Sightline (libinjection + Sightline's rules) next to libinjection alone and the rules
//! alone on the same inputs, the demo's clean week, and the time per request.
//! Run with `cargo bench --bench detection` (`SIGHTLINE_BENCH_DETECTION_ROUNDS`,
//! default 5 timing rounds over every input).

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use sightline::demo::Generator;
use sightline::detect::corpus::{self, Corpus, Label, Score};
use sightline::detect::inspect::{Engines, RequestText, inspect_with};

const ENGINES: [(&str, Engines); 3] = [
    ("Sightline", Engines::ALL),
    ("libinjection", Engines::LIBINJECTION),
    ("rules alone", Engines::RULES),
];

fn row(name: &str, scores: &[Score]) {
    let cells: Vec<String> = scores
        .iter()
        .map(|s| format!("{:>5}/{:<5} {:>6.2}%", s.flagged, s.lines, s.percent()))
        .collect();
    println!("| {name:<40} | {} |", cells.join(" | "));
}

fn header(first: &str) {
    let names: Vec<String> = ENGINES.iter().map(|(n, _)| format!("{n:>19}")).collect();
    println!("| {first:<40} | {} |", names.join(" | "));
    println!(
        "|{}|{}",
        "-".repeat(42),
        "--------------------:|".repeat(ENGINES.len())
    );
}

fn scores(c: &Corpus) -> Vec<Score> {
    ENGINES.iter().map(|(_, e)| corpus::score(c, *e)).collect()
}

fn add(total: &mut Vec<Score>, s: &[Score]) {
    total.resize(s.len(), Score::default());
    for (t, s) in total.iter_mut().zip(s) {
        t.add(*s);
    }
}

/// A week of the demo platform's ordinary traffic: endpoint, user agent (no query
/// strings: the demo sends none).
fn clean_week() -> Vec<(String, Option<String>)> {
    let start = 1_767_571_200_000; // Monday 2026-01-05 00:00 UTC
    let hour = 3_600_000;
    let mut g = Generator::new(7, 300, 30_000, start, start + 7 * 24 * hour).without_attacks();
    (0..7 * 24)
        .flat_map(|h| g.window(start + h * hour, start + (h + 1) * hour).requests)
        .map(|r| (r.endpoint, r.user_agent))
        .collect()
}

/// Median and 99th percentile nanoseconds of `inspect_with` per request.
fn timing(requests: &[RequestText<'_>], engines: Engines, rounds: usize) -> (f64, f64) {
    let mut ns: Vec<u64> = Vec::with_capacity(requests.len() * rounds);
    for _ in 0..rounds {
        for r in requests {
            let t = Instant::now();
            std::hint::black_box(inspect_with(std::hint::black_box(r), engines));
            ns.push(t.elapsed().as_nanos() as u64);
        }
    }
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize] as f64;
    (at(0.5), at(0.99))
}

fn main() {
    let rounds = support::env_count("SIGHTLINE_BENCH_DETECTION_ROUNDS", 5);
    let corpora = corpus::load(&corpus::default_dir()).expect("the corpora load");

    println!("\n## Recall on attacks (flagged as any attack type)\n");
    header("corpus");
    let mut by_label: BTreeMap<Label, Vec<Score>> = BTreeMap::new();
    for c in corpora
        .iter()
        .filter(|c| c.label.is_attack() && !c.label.is_prompt())
    {
        let s = scores(c);
        row(&format!("{}/{}", c.source, c.label), &s);
        add(by_label.entry(c.label).or_default(), &s);
    }
    let mut overall = Vec::new();
    for (label, s) in &by_label {
        row(&format!("all {label}"), s);
        add(&mut overall, s);
    }
    row("all four classes", &overall);

    println!("\n## False positives on benign traffic\n");
    header("corpus");
    let mut benign = Vec::new();
    for c in corpora.iter().filter(|c| c.label == Label::Benign) {
        let s = scores(c);
        row(&format!("{}/{}", c.source, c.label), &s);
        add(&mut benign, &s);
    }
    let week = clean_week();
    let week_requests: Vec<RequestText<'_>> = week
        .iter()
        .map(|(endpoint, ua)| RequestText {
            endpoint,
            user_agent: ua.as_deref(),
            ..RequestText::default()
        })
        .collect();
    let week_scores: Vec<Score> = ENGINES
        .iter()
        .map(|(_, e)| Score {
            lines: week_requests.len(),
            flagged: week_requests
                .iter()
                .filter(|r| !inspect_with(r, *e).is_empty())
                .count(),
        })
        .collect();
    row("demo clean week (any threat)", &week_scores);
    row("all benign corpora", &benign);

    println!("\n## Prompt injection\n");
    header("corpus");
    for c in corpora.iter().filter(|c| c.label.is_prompt()) {
        row(&format!("{}/{}", c.source, c.label), &scores(c));
    }

    println!("\n## Time per request (ns), {rounds} rounds\n");
    let corpus_requests = |attack: bool| -> Vec<RequestText<'_>> {
        corpora
            .iter()
            .filter(|c| !c.label.is_prompt() && c.label.is_attack() == attack)
            .flat_map(|c| c.lines.iter().map(|l| corpus::request_text(c.label, l)))
            .collect()
    };
    let sets = [
        ("demo clean week", week_requests),
        ("benign corpora", corpus_requests(false)),
        ("attack corpora", corpus_requests(true)),
    ];
    let names: Vec<String> = ENGINES
        .iter()
        .map(|(n, _)| format!("{:>21}", format!("{n} p50 / p99")))
        .collect();
    println!(
        "| {:<20} | {:>8} | {} |",
        "requests",
        "count",
        names.join(" | ")
    );
    println!(
        "|{}|---------:|{}",
        "-".repeat(22),
        "----------------------:|".repeat(3)
    );
    for (name, requests) in &sets {
        let cells: Vec<String> = ENGINES
            .iter()
            .map(|(_, e)| {
                let (p50, p99) = timing(requests, *e, rounds);
                format!("{:>21}", format!("{p50:.0} / {p99:.0}"))
            })
            .collect();
        println!(
            "| {name:<20} | {:>8} | {} |",
            requests.len(),
            cells.join(" | ")
        );
    }
}
