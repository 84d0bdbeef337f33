//! Micro-benchmarks of the request path's pure steps (docs/performance.md):
//! signature verification per algorithm, parameter parsing of a typical
//! signed body (urlencoded and multipart), and the timestamp parser.
//!
//!     cargo bench --bench protocol
//!
//! Under `cargo test --all-targets` each benchmark runs once, as a smoke test.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use panthera::protocol::params::{self, Limits};
use panthera::protocol::signature::{sign_hex, verify_hex, Algo};
use panthera::protocol::timestamp::Timestamp;

const TS: &str = "Thu, 26 Jul 2012 14:53:44 UTC";
const KEY: &str = "a5e770dadd779347e0fdd4db91ad883d0592aaca031e2c81234f3cb8008fdd1f";
const SECRET: &str = "2d59f8b08d5b7a213f61cdf6a087441856d7abee";
const NONCE: &str = "Im ar andomS tring";

fn signature(c: &mut Criterion) {
    let parts: [&[u8]; 3] = [TS.as_bytes(), KEY.as_bytes(), NONCE.as_bytes()];
    let mut g = c.benchmark_group("signature_verify");
    for algo in Algo::ALL {
        let sig = sign_hex(algo, SECRET.as_bytes(), &parts);
        g.bench_function(algo.as_str(), |b| {
            b.iter(|| {
                verify_hex(
                    black_box(algo),
                    black_box(SECRET.as_bytes()),
                    black_box(&parts),
                    black_box(&sig),
                )
            })
        });
    }
    g.finish();
}

const LIMITS: Limits = Limits {
    max_params: 256,
    max_name_bytes: 128,
    max_value_bytes: 65_536,
};

/// What `panthera call search ...` sends: credentials plus a few method parameters.
fn typical_fields() -> Vec<(&'static str, String)> {
    vec![
        ("api_key", KEY.to_string()),
        (
            "access_key",
            sign_hex(
                Algo::Sha1,
                SECRET.as_bytes(),
                &[TS.as_bytes(), KEY.as_bytes(), NONCE.as_bytes()],
            ),
        ),
        ("timestamp", TS.to_string()),
        ("nonce", NONCE.to_string()),
        ("algo", "sha1".to_string()),
        ("content_type", "application/json".to_string()),
        ("q", "red fox in the snow".to_string()),
        ("lang", "en".to_string()),
        ("page", "2".to_string()),
        ("limit", "40".to_string()),
    ]
}

fn parse(c: &mut Criterion) {
    let fields = typical_fields();
    let urlencoded = serde_urlencoded::to_string(&fields).expect("encodes");
    let boundary = "------------------------d74496d66958873e";
    let mut multipart = String::new();
    for (name, value) in &fields {
        multipart.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    multipart.push_str(&format!("--{boundary}--\r\n"));
    let multipart_type = format!("multipart/form-data; boundary={boundary}");

    let mut g = c.benchmark_group("params_parse");
    g.bench_function("urlencoded_10_fields", |b| {
        b.iter(|| {
            params::parse(
                black_box(""),
                Some("application/x-www-form-urlencoded"),
                black_box(urlencoded.as_bytes()),
                &LIMITS,
            )
        })
    });
    g.bench_function("multipart_10_fields", |b| {
        b.iter(|| {
            params::parse(
                black_box(""),
                Some(&multipart_type),
                black_box(multipart.as_bytes()),
                &LIMITS,
            )
        })
    });
    g.finish();
}

fn timestamp(c: &mut Criterion) {
    let mut g = c.benchmark_group("timestamp");
    g.bench_function("parse", |b| b.iter(|| Timestamp::parse(black_box(TS))));
    g.bench_function("format", |b| {
        b.iter(|| Timestamp::from_unix(black_box(1_343_314_424)).format())
    });
    g.finish();
}

criterion_group!(benches, signature, parse, timestamp);
criterion_main!(benches);
