//! Search latency on a generated catalogue.
//!
//!     cargo bench --bench search                      # 100 000 items
//!     PANTHERA_BENCH_ITEMS=20000 cargo bench --bench search
//!
//! Generates the catalogue with `panthera media generate`'s generator in a
//! temporary store, then runs the `search` method through `run_method`
//! (validation, SQL, the answer tree and its XML encoding; no HTTP and no
//! signature check) and prints p50 / p95 / p99 per kind of query.
//! `cargo test` runs this file too: then it only smoke-tests 2 000 items.

use std::sync::Arc;
use std::time::{Duration, Instant};

use panthera::answer::Format;
use panthera::app::AppState;
use panthera::config::Config;
use panthera::http::pipeline::run_method;
use panthera::methods::{self, Method};
use panthera::protocol::params::{ParamValue, Params};
use panthera::protocol::version::Version;
use panthera::store::keys::{self, Role};

/// One search's parameters besides `limit` and `extra_info`.
type Query = Vec<(&'static str, String)>;

const TWO_WORDS: &[&str] = &[
    "fox forest",
    "misty lake",
    "boat harbour",
    "family park",
    "golden meadow",
    "castle tower",
    "coffee morning",
    "snowy mountain",
    "city street",
    "horse farm",
    "beach summer",
    "owl night",
];

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = if bench {
        std::env::var("PANTHERA_BENCH_ITEMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000)
    } else {
        2_000
    };
    let rounds = if bench { 2_000 } else { 50 };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let state = Arc::new(AppState::with_system_clock(config).expect("state"));
    let start = Instant::now();
    state
        .store
        .with(|c| {
            let tx = c.transaction()?;
            panthera::media::catalogue::generate(
                &tx,
                n,
                42,
                panthera::store::now_unix(),
                5,
                || {},
            )?;
            tx.commit()
        })
        .expect("generate");
    println!(
        "generated {n} items in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let key = state
        .store
        .with(|c| keys::create(c, "bench", Role::App, None))
        .expect("key");
    let search = methods::all()
        .iter()
        .find(|m| m.name == "search" && m.since == Version::new(1, 2))
        .expect("search 1.2");
    let cases: [(&str, Vec<Query>); 4] = [
        (
            "two words",
            TWO_WORDS
                .iter()
                .map(|q| vec![("q", q.to_string())])
                .collect(),
        ),
        (
            "one word",
            ["fox", "lake", "family", "bridge"]
                .iter()
                .map(|q| vec![("q", q.to_string())])
                .collect(),
        ),
        (
            "two words + filters",
            TWO_WORDS
                .iter()
                .map(|q| {
                    vec![
                        ("q", q.to_string()),
                        (
                            "filters",
                            "orientation:landscape;color:blue,green;".to_string(),
                        ),
                    ]
                })
                .collect(),
        ),
        ("no q (newest)", vec![vec![("page", "3".to_string())]]),
    ];
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9}",
        "query", "p50 ms", "p95 ms", "p99 ms", "hits"
    );
    for (name, queries) in cases {
        let (times, hits) = measure(&state, search, &key, &queries, rounds);
        println!(
            "{name:<22} {:>9.3} {:>9.3} {:>9.3} {:>9}",
            ms(pct(&times, 50)),
            ms(pct(&times, 95)),
            ms(pct(&times, 99)),
            hits
        );
    }
}

/// Runs `rounds` searches cycling through `queries` (after a warm-up):
/// the sorted durations and the average total hits.
fn measure(
    state: &Arc<AppState>,
    m: &'static Method,
    key: &keys::ApiKey,
    queries: &[Query],
    rounds: usize,
) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut hits = 0usize;
    for i in 0..rounds + 20 {
        let mut params = Params::default();
        for (k, v) in &queries[i % queries.len()] {
            params
                .insert((*k).to_string(), ParamValue::One(v.clone()))
                .expect("param");
        }
        for (k, v) in [("limit", "40"), ("extra_info", "title,width,height")] {
            params
                .insert(k.to_string(), ParamValue::One(v.to_string()))
                .expect("param");
        }
        let t = Instant::now();
        let answer = run_method(state, m, m.since, key, params, "bench").expect("search");
        let xml = Format::Xml.encode_ok(&answer);
        let took = t.elapsed();
        if i >= 20 {
            times.push(took);
            hits += answer.items[0]
                .attrs
                .iter()
                .find(|(k, _)| k == "total")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
        }
        std::hint::black_box(xml);
    }
    times.sort();
    (times, hits / rounds.max(1))
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() * p).div_ceil(100)).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
