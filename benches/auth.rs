//! How long a refused app authentication takes, for a key that exists
//! (wrong signature) and one that does not: the two must cost the same, or
//! the time of a refusal tells whether a key exists (docs/performance.md).
//! Both run the whole step a request runs (`http::authenticate::app`: key
//! cache, store, signature), in their steady state (the key seen before).
//!
//!     cargo bench --bench auth
//!
//! Under `cargo test --all-targets` each benchmark runs once, as a smoke test.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use panthera::app::AppState;
use panthera::config::Config;
use panthera::methods::{self, Method};
use panthera::protocol::params::{ParamValue, Params};
use panthera::protocol::timestamp::Timestamp;
use panthera::store::keys::Role;

fn form(api_key: &str) -> Params {
    let mut p = Params::default();
    let now = Timestamp::from_unix(panthera::store::now_unix()).to_string();
    for (k, v) in [
        ("api_key", api_key),
        ("access_key", "0000000000000000000000000000000000000001"),
        ("timestamp", &now),
        ("nonce", "bench-nonce"),
    ] {
        p.insert(k.to_string(), ParamValue::One(v.to_string()))
            .expect("a parameter");
    }
    p
}

fn refusals(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let state = Arc::new(AppState::with_system_clock(config).expect("state"));
    let key = state
        .store
        .keys()
        .create("bench", Role::App, None)
        .expect("key");
    let method: &'static Method = methods::all()
        .iter()
        .find(|m| m.name == "host-info")
        .expect("host-info");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let unknown = "f".repeat(key.api_key.len());
    let mut g = c.benchmark_group("auth_refusal");
    for (name, api_key) in [
        ("known key, wrong signature", key.api_key.as_str()),
        ("unknown key", unknown.as_str()),
    ] {
        let params = form(api_key);
        g.bench_function(name, |b| {
            b.iter(|| {
                let refused = rt.block_on(panthera::http::authenticate::app(
                    &state,
                    method,
                    black_box(&params),
                    None,
                    "bench",
                ));
                assert!(refused.is_err());
            })
        });
    }
    g.finish();
    interleaved(&rt, &state, method, &form(&key.api_key), &form(&unknown));
}

/// The two cases alternated batch by batch, so a busy machine slows both
/// alike; prints each case's median batch time per call.
fn interleaved(
    rt: &tokio::runtime::Runtime,
    state: &AppState,
    method: &'static Method,
    known: &Params,
    unknown: &Params,
) {
    let bench = std::env::args().any(|a| a == "--bench");
    let (batches, per_batch) = if bench { (400, 200) } else { (4, 2) };
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..batches {
        for (i, params) in [known, unknown].into_iter().enumerate() {
            let start = std::time::Instant::now();
            for _ in 0..per_batch {
                let refused = rt.block_on(panthera::http::authenticate::app(
                    state,
                    method,
                    black_box(params),
                    None,
                    "bench",
                ));
                assert!(refused.is_err());
            }
            times[i].push(start.elapsed().as_nanos() as f64 / per_batch as f64 / 1000.0);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut times[0]), median(&mut times[1]));
    println!(
        "auth_refusal interleaved ({batches} x {per_batch} each): known key, wrong signature \
         {k:.2} µs; unknown key {u:.2} µs; ratio {:.3}",
        u / k
    );
}

criterion_group!(benches, refusals);
criterion_main!(benches);
