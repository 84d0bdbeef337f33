//! Search latency on a generated catalogue.
//!
//!     cargo bench --bench search                      # 100 000 items
//!     PANTHERA_BENCH_ITEMS=20000 cargo bench --bench search
//!
//! Generates the catalogue with `panthera media generate`'s generator in a
//! temporary store, then runs the `search` method through `run_method`
//! (validation, SQL, the answer tree and its XML encoding; no HTTP and no
//! signature check) and prints p50 / p95 / p99 per kind of query; then the
//! same two-word queries end to end over HTTP against a started server
//! (signature, replay store, search, XML), one client, sequential.
//! `cargo test` runs this file too: then it only smoke-tests 2 000 items.

use std::sync::Arc;
use std::time::{Duration, Instant};

use panthera::answer::Format;
use panthera::app::AppState;
use panthera::config::Config;
use panthera::methods::run::{run_method, Principal};
use panthera::methods::{self, Method};
use panthera::protocol::params::{ParamValue, Params};
use panthera::protocol::version::Version;
use panthera::store::keys::{self, Role};

/// One search's parameters besides `limit` and `extra_info`.
type Query = Vec<(&'static str, String)>;

/// Two-word queries: the first six match ~0.3 % of the catalogue (a subject
/// and an unrelated word), the last six ~4 % (a subject and a word every item
/// of that subject carries), the worst case for ranking.
const TWO_WORDS: &[&str] = &[
    "fox forest",
    "misty lake",
    "family park",
    "golden meadow",
    "snowy mountain",
    "quiet garden",
    "boat harbour",
    "castle tower",
    "coffee morning",
    "city street",
    "horse farm",
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
    let state = Arc::new(AppState::with_system_clock(config.clone()).expect("state"));
    let start = Instant::now();
    state
        .store
        .media_items()
        .add_all(
            panthera::media::catalogue::generate(n, 42, panthera::store::now_unix(), 5),
            || {},
        )
        .expect("generate");
    println!(
        "generated {n} items in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let key = state
        .store
        .keys()
        .create("bench", Role::App, None)
        .expect("key");
    let search = methods::all()
        .iter()
        .find(|m| m.name == "search" && m.since == Version::new(1, 2))
        .expect("search 1.2");
    let words =
        |qs: &[&str]| -> Vec<Query> { qs.iter().map(|q| vec![("q", q.to_string())]).collect() };
    let cases: [(&str, Vec<Query>); 6] = [
        ("two words", words(TWO_WORDS)),
        ("two words, selective", words(&TWO_WORDS[..6])),
        ("two words, broad", words(&TWO_WORDS[6..])),
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
    let http_queries = cases[0].1.clone();
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
    // The server takes the store's replay lock: the first state lets go.
    drop(state);
    over_http(config, &key, &http_queries, rounds / 2);
}

/// Starts a server on the same store and times signed two-word searches.
fn over_http(config: Config, key: &keys::ApiKey, queries: &[Query], rounds: usize) {
    let mut config = config;
    config.server.listen = vec!["127.0.0.1:0".into()];
    config.log.level = "warn".into();
    let state = AppState::with_system_clock(config).expect("server state");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let running = panthera::app::start(state).expect("server start");
            let _ = tx.send(running.addrs[0]);
            let _ = running.server.await;
        })
    });
    let addr = rx.recv().expect("server address");
    let client = panthera::client::Client::new(
        &format!("http://{addr}"),
        panthera::client::Credentials {
            api_key: key.api_key.clone(),
            api_secret: key.secret.expose().to_string(),
            algo: panthera::protocol::signature::Algo::Sha1,
        },
    );
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds + 20 {
        let q = &queries[i % queries.len()][0].1;
        let t = Instant::now();
        let r = client
            .call(Some("1.2"), "search", &[("q", q), ("limit", "40")])
            .expect("http search");
        let took = t.elapsed();
        assert_eq!(r.status, 200, "{}", r.body);
        if i >= 20 {
            times.push(took);
        }
    }
    times.sort();
    println!(
        "{:<22} {:>9.3} {:>9.3} {:>9.3}",
        "two words over HTTP",
        ms(pct(&times, 50)),
        ms(pct(&times, 95)),
        ms(pct(&times, 99))
    );
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
        let caller = Principal {
            key,
            account: None,
            base_url: "",
        };
        let answer = run_method(state, m, m.since, &caller, params, "bench").expect("search");
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
