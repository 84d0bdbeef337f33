//! `panthera-load`: a small closed-loop HTTP/1.1 load generator for Panthera.
//!
//! Off-the-shelf tools (wrk, oha) cannot sign requests: every signed request
//! needs a fresh nonce and an HMAC. This one keeps `--connections` keep-alive
//! connections busy, each sending its next request as soon as the last answer
//! arrived, and reports requests/s and latency percentiles. It also records
//! the answered requests (`--record`) and replays such a file (`replay`) for
//! the durability check. Used by `scripts/load`, `scripts/soak` and
//! `scripts/durability`.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use panthera::protocol::signature::{sign_hex, Algo};
use panthera::protocol::timestamp::Timestamp;
use rand::distributions::Alphanumeric;
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
#[command(
    name = "panthera-load",
    about = "Closed-loop load generator for Panthera"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Drive load and report requests/s and latency.
    Run(RunArgs),
    /// POST every body of a `--record` file once; report the statuses.
    Replay(ReplayArgs),
    /// Store `--count` live claims directly in a (stopped) server's database.
    Prefill(PrefillArgs),
    /// The picture-file attack of issue 12: buys a few downloads, then
    /// fetches their signed links from many connections on several loopback
    /// addresses at once (then public `preview-high` files), while timing
    /// signed `host-info` and sampling the server's RSS.
    Renders(RendersArgs),
}

#[derive(Debug, clap::Args)]
struct RendersArgs {
    #[command(flatten)]
    target: Target,
    /// The server's process id, for its RSS (/proc/<pid>/status).
    #[arg(long)]
    pid: u32,
    /// Items to buy (one download link each).
    #[arg(long, default_value = "3,4,5,6,7,8,9", value_delimiter = ',')]
    media: Vec<i64>,
    /// The article bought (4 = XL, the original size).
    #[arg(long, default_value_t = 4)]
    article: i64,
    /// Source addresses 127.0.0.2, 127.0.0.3 … the fetches come from.
    #[arg(long, default_value_t = 7)]
    sources: u8,
    /// Concurrent connections per source address.
    #[arg(long, default_value_t = 64)]
    per_source: usize,
    /// Fetches per connection and phase.
    #[arg(long, default_value_t = 3)]
    fetches: usize,
    /// Connections fetching public preview-high files in the second phase
    /// (from one more address); 0 skips it.
    #[arg(long, default_value_t = 64)]
    preview_connections: usize,
    /// Connections timing signed host-info during each phase.
    #[arg(long, default_value_t = 2)]
    api_connections: usize,
    /// Each phase stops by itself after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    max_seconds: f64,
}

#[derive(Debug, clap::Args)]
struct PrefillArgs {
    /// The panthera.db file.
    #[arg(long)]
    db: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// `GET /health`, unauthenticated.
    Health,
    /// Signed `host-info`, a fresh nonce per request.
    Signed,
    /// A mix: signed methods in XML and JSON with all algos, docs pages,
    /// `/health`, replays and bad signatures (expected 403s).
    Mixed,
}

#[derive(Debug, Clone, clap::Args)]
struct Target {
    /// host:port of the server.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Api key for signed requests.
    #[arg(long, env = "PANTHERA_API_KEY", default_value = "")]
    key: String,
    /// Api secret for signed requests.
    #[arg(
        long,
        env = "PANTHERA_API_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    secret: String,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    #[arg(long, value_enum, default_value = "signed")]
    scenario: Scenario,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// OS threads driving the connections.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// HMAC algorithm of the signed scenario.
    #[arg(long, default_value = "sha1")]
    algo: String,
    /// Ask for JSON answers in the signed scenario.
    #[arg(long)]
    json: bool,
    /// Append the body of every signed request answered 200 to this file.
    #[arg(long)]
    record: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    #[command(flatten)]
    target: Target,
    /// A file written by `run --record`.
    #[arg(long)]
    file: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Run(args) => run(args),
        Cmd::Replay(args) => replay(args),
        Cmd::Prefill(args) => prefill(args),
        Cmd::Renders(args) => renders(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("panthera-load: {e}");
            ExitCode::from(2)
        }
    }
}

/// What one connection saw while measuring.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// Count per status code (index = status / 100 for the summary).
    statuses: std::collections::BTreeMap<u16, u64>,
    /// Transport errors (connect, reset, malformed answer).
    errors: u64,
    /// Answers that were not what the request expects (mixed scenario).
    unexpected: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.errors += other.errors;
        self.unexpected += other.unexpected;
    }
}

/// Everything a connection needs to build its requests.
struct Plan {
    addr: SocketAddr,
    key: String,
    secret: String,
    algo: Algo,
    json: bool,
    scenario: Scenario,
    /// Makes this run's nonces differ from any earlier run's.
    run_id: String,
    record: Option<Mutex<BufWriter<File>>>,
}

/// One request to send and the statuses it may get.
struct Req {
    bytes: Vec<u8>,
    /// The form body, kept for `--record` and replays.
    body: Option<String>,
    expect: &'static [u16],
    signed_fresh: bool,
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let algo = Algo::parse(&args.algo).ok_or("--algo must be sha1, sha256 or sha512")?;
    if args.scenario != Scenario::Health
        && (args.target.key.is_empty() || args.target.secret.is_empty())
    {
        return Err("signed scenarios need --key and --secret (or PANTHERA_API_KEY/SECRET)".into());
    }
    let record = match &args.record {
        Some(p) => Some(Mutex::new(BufWriter::new(
            File::options()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("{}: {e}", p.display()))?,
        ))),
        None => None,
    };
    let plan = Arc::new(Plan {
        addr: args.target.addr,
        key: args.target.key.clone(),
        secret: args.target.secret.clone(),
        algo,
        json: args.json,
        scenario: args.scenario,
        run_id: rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(6)
            .map(char::from)
            .collect(),
        record,
    });
    let threads = args.threads.max(1).min(args.connections.max(1));
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup.max(0.0));
    let deadline = measure_from + Duration::from_secs_f64(args.duration.max(0.1));
    let cpu_before = own_cpu_secs();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let plan = Arc::clone(&plan);
            let conns: Vec<usize> = (0..args.connections).filter(|c| c % threads == t).collect();
            std::thread::spawn(move || -> Result<Tally, String> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(async move {
                    let tasks: Vec<_> = conns
                        .into_iter()
                        .map(|c| {
                            tokio::spawn(connection(Arc::clone(&plan), c, measure_from, deadline))
                        })
                        .collect();
                    let mut tally = Tally::default();
                    for t in tasks {
                        tally.merge(t.await.map_err(|e| e.to_string())?);
                    }
                    Ok(tally)
                })
            })
        })
        .collect();
    let mut tally = Tally::default();
    for h in handles {
        tally.merge(h.join().map_err(|_| "a load thread panicked")??);
    }
    let cpu = own_cpu_secs() - cpu_before;
    if let Some(r) = &plan.record {
        if let Ok(mut w) = r.lock() {
            w.flush().map_err(|e| e.to_string())?;
        }
    }
    report(&args, &tally, cpu);
    Ok(ExitCode::SUCCESS)
}

async fn connection(plan: Arc<Plan>, id: usize, measure_from: Instant, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut seq: u64 = 0;
    let mut stamp = Stamp::default();
    let mut last_ok: Option<String> = None;
    let mut buf = Vec::with_capacity(16 * 1024);
    'outer: while Instant::now() < deadline {
        let mut stream = match TcpStream::connect(plan.addr).await {
            Ok(s) => s,
            Err(_) => {
                if Instant::now() >= measure_from {
                    tally.errors += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        loop {
            let now = Instant::now();
            if now >= deadline {
                break 'outer;
            }
            seq += 1;
            let req = build(&plan, id, seq, &mut stamp, last_ok.as_deref());
            let t0 = Instant::now();
            let answer = exchange(&mut stream, &req.bytes, &mut buf).await;
            let micros = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
            let measuring = t0 >= measure_from;
            match answer {
                Ok((status, keep_alive)) => {
                    if measuring {
                        tally.latencies_us.push(micros);
                        *tally.statuses.entry(status).or_default() += 1;
                        if !req.expect.contains(&status) {
                            tally.unexpected += 1;
                            if tally.unexpected <= 3 {
                                eprintln!(
                                    "unexpected {status} (expected {:?}) for: {}",
                                    req.expect,
                                    String::from_utf8_lossy(&req.bytes)
                                        .lines()
                                        .next()
                                        .unwrap_or("")
                                );
                            }
                        }
                    }
                    if status == 200 && req.signed_fresh {
                        if let (Some(body), Some(rec)) = (&req.body, &plan.record) {
                            if let Ok(mut w) = rec.lock() {
                                let _ = writeln!(w, "{body}");
                            }
                        }
                        last_ok = req.body;
                    }
                    if !keep_alive {
                        continue 'outer;
                    }
                }
                Err(_) => {
                    if measuring {
                        tally.errors += 1;
                    }
                    continue 'outer;
                }
            }
        }
    }
    tally
}

/// The timestamp of the current second, formatted once per second.
#[derive(Default)]
struct Stamp {
    unix: i64,
    text: String,
}

impl Stamp {
    fn now(&mut self) -> &str {
        let now = panthera::store::now_unix();
        if now != self.unix || self.text.is_empty() {
            self.unix = now;
            self.text = Timestamp::from_unix(now).format();
        }
        &self.text
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// A signed form body with a fresh nonce (or a wrong signature when `bad`).
fn signed_body(
    plan: &Plan,
    algo: Algo,
    nonce: &str,
    stamp: &mut Stamp,
    extra: &str,
    bad: bool,
) -> String {
    let ts = stamp.now().to_string();
    let mut access_key = sign_hex(
        algo,
        plan.secret.as_bytes(),
        &[ts.as_bytes(), plan.key.as_bytes(), nonce.as_bytes()],
    );
    if bad {
        // Change the first hex digit: a wrong signature, always.
        let first = if access_key.starts_with('0') {
            "1"
        } else {
            "0"
        };
        access_key.replace_range(0..1, first);
    }
    format!(
        "api_key={}&access_key={access_key}&timestamp={}&nonce={}&algo={}{extra}",
        plan.key,
        enc(&ts),
        enc(nonce),
        algo.as_str()
    )
}

fn post(plan: &Plan, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: panthera-load\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{body}",
        plan.addr,
        body.len()
    )
    .into_bytes()
}

fn get(plan: &Plan, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: panthera-load\r\n\r\n",
        plan.addr
    )
    .into_bytes()
}

fn build(plan: &Plan, conn: usize, seq: u64, stamp: &mut Stamp, last_ok: Option<&str>) -> Req {
    let nonce = format!("{}{conn:x}x{seq:x}", plan.run_id);
    let json = if plan.json {
        "&content_type=application%2Fjson"
    } else {
        ""
    };
    let signed = |path: &str, algo: Algo, extra: &str, stamp: &mut Stamp| {
        let body = signed_body(plan, algo, &nonce, stamp, extra, false);
        Req {
            bytes: post(plan, path, &body),
            body: Some(body),
            expect: &[200],
            signed_fresh: true,
        }
    };
    match plan.scenario {
        Scenario::Health => Req {
            bytes: get(plan, "/health"),
            body: None,
            expect: &[200],
            signed_fresh: false,
        },
        Scenario::Signed => signed("/host-info", plan.algo, json, stamp),
        Scenario::Mixed => match seq % 20 {
            0..=7 => signed("/host-info", Algo::Sha1, "", stamp),
            8..=9 => signed(
                "/host-info",
                Algo::Sha256,
                "&content_type=application%2Fjson",
                stamp,
            ),
            10 => signed("/v1.2/get-method-list", Algo::Sha512, "", stamp),
            11 => signed(
                "/get-method-info",
                Algo::Sha1,
                "&method=host-info&content_type=application%2Fjson",
                stamp,
            ),
            12 | 13 => Req {
                bytes: get(plan, "/health"),
                body: None,
                expect: &[200],
                signed_fresh: false,
            },
            14 => Req {
                bytes: get(plan, "/host-info"),
                body: None,
                expect: &[200],
                signed_fresh: false,
            },
            15 => Req {
                bytes: get(plan, "/"),
                body: None,
                expect: &[200],
                signed_fresh: false,
            },
            16 | 17 => match last_ok {
                Some(body) => Req {
                    bytes: post(plan, "/host-info", body),
                    body: None,
                    expect: &[403],
                    signed_fresh: false,
                },
                None => signed("/host-info", Algo::Sha1, "", stamp),
            },
            _ => {
                let body = signed_body(plan, Algo::Sha1, &nonce, stamp, "", true);
                Req {
                    bytes: post(plan, "/host-info", &body),
                    body: None,
                    expect: &[403],
                    signed_fresh: false,
                }
            }
        },
    }
}

/// Sends one request and reads its answer: the status and whether the
/// connection stays open.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(u16, bool), String> {
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    buf.clear();
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|e| e.to_string())?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let mut length = None;
    let mut close = false;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err("chunked answers are not supported".into());
            }
        }
    }
    let length = length.ok_or("no content-length")?;
    while buf.len() < head_end + length {
        read_more(stream, buf).await?;
    }
    Ok((status, !close))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("connection closed".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// User + system CPU seconds of this process, from /proc (0 elsewhere).
fn own_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Field 14 is index 11 after the name (field 3 is index 0); 100 ticks/s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn report(args: &RunArgs, tally: &Tally, client_cpu: f64) {
    let mut lat = tally.latencies_us.clone();
    lat.sort_unstable();
    let n = lat.len() as u64;
    let rps = n as f64 / args.duration;
    let server_errors: u64 = tally
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    let statuses = tally
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let ms = |us: u32| f64::from(us) / 1000.0;
    println!(
        "{:?}: {n} answers in {:.1} s over {} connections = {rps:.0} req/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; statuses {statuses}; transport errors {}; unexpected {}",
        args.scenario,
        args.duration,
        args.connections,
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 90.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or(0)),
        tally.errors,
        tally.unexpected,
    );
    println!(
        "RESULT scenario={:?} connections={} seconds={} answers={n} rps={rps:.0} p50_us={} p90_us={} p99_us={} max_us={} status5xx={server_errors} errors={} unexpected={} client_cpu_s={client_cpu:.2}",
        args.scenario,
        args.connections,
        args.duration,
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(0),
        tally.errors,
        tally.unexpected,
    );
}

fn replay(args: ReplayArgs) -> Result<ExitCode, String> {
    let file = File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let bodies: Vec<String> = BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.is_empty())
        .collect();
    let plan = Plan {
        addr: args.target.addr,
        key: args.target.key.clone(),
        secret: args.target.secret.clone(),
        algo: Algo::Sha1,
        json: false,
        scenario: Scenario::Signed,
        run_id: String::new(),
        record: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let statuses = rt.block_on(async {
        let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
        let mut stream: Option<TcpStream> = None;
        let mut buf = Vec::new();
        for body in &bodies {
            let req = post(&plan, "/host-info", body);
            let mut failures = 0;
            let status = loop {
                let s = match stream.as_mut() {
                    Some(s) => s,
                    None => {
                        let s = TcpStream::connect(plan.addr)
                            .await
                            .map_err(|e| e.to_string())?;
                        stream.insert(s)
                    }
                };
                match exchange(s, &req, &mut buf).await {
                    Ok((status, keep)) => {
                        if !keep {
                            stream = None;
                        }
                        break status;
                    }
                    Err(e) => {
                        stream = None;
                        failures += 1;
                        if failures == 3 {
                            return Err(format!("replay: {e}"));
                        }
                    }
                }
            };
            *statuses.entry(status).or_default() += 1;
        }
        Ok::<_, String>(statuses)
    })?;
    let shown = statuses
        .iter()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect::<Vec<_>>()
        .join(",");
    println!("REPLAY requests={} statuses={shown}", bodies.len());
    Ok(ExitCode::SUCCESS)
}

/// Live nonces as the server stores them (`replay_log`, one packed row per
/// group commit): timestamps of the last 300 s, 1000 random claims per row,
/// in one transaction.
fn prefill(args: PrefillArgs) -> Result<ExitCode, String> {
    panthera::store::nonces::prefill(&args.db, args.count, panthera::store::now_unix())
        .map_err(|e| e.to_string())?;
    println!("PREFILL claims={}", args.count);
    Ok(ExitCode::SUCCESS)
}

/// The server's VmRSS and VmHWM in kB.
fn server_memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Connects from `source` (a loopback address) to the server.
async fn connect_from(source: std::net::IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(to).await?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Sends one request and reads its answer, counting the body without
/// keeping it: the status, the body length and whether the connection stays.
async fn exchange_discard(
    stream: &mut TcpStream,
    request: &[u8],
) -> Result<(u16, usize, bool), String> {
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, &mut buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|e| e.to_string())?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let mut length = 0;
    let mut close = false;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().map_err(|e| e.to_string())?;
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err("chunked answers are not supported".into());
            }
        }
    }
    let mut got = buf.len() - head_end;
    let mut chunk = vec![0u8; 64 * 1024];
    while got < length {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        got += n;
    }
    Ok((status, length, !close))
}

/// A signed call whose (small) answer body is returned.
async fn signed_call(plan: &Plan, method: &str, extra: &str) -> Result<(u16, String), String> {
    let mut stamp = Stamp::default();
    let nonce = format!("{}{}", plan.run_id, rand::thread_rng().gen::<u64>());
    let body = signed_body(plan, plan.algo, &nonce, &mut stamp, extra, false);
    let mut stream = TcpStream::connect(plan.addr)
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let (status, _) = exchange(
        &mut stream,
        &post(plan, &format!("/{method}"), &body),
        &mut buf,
    )
    .await?;
    let start = find(&buf, b"\r\n\r\n").map_or(0, |i| i + 4);
    Ok((status, String::from_utf8_lossy(&buf[start..]).into_owned()))
}

/// Buys `article` of each item and waits until every download link is ready.
async fn buy_links(plan: &Plan, media: &[i64], article: i64) -> Result<Vec<String>, String> {
    let mut links = Vec::new();
    for id in media {
        let extra = format!("&id_media={id}&id_article={article}&content_type=application%2Fjson");
        let (status, body) = signed_call(plan, "download-media", &extra).await?;
        if status != 200 {
            return Err(format!("download-media {id}: {status} {body}"));
        }
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let hash = v["download_status"]["queue_hash"]
            .as_str()
            .ok_or("no queue_hash")?
            .to_string();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let extra = format!("&id_media={id}&queue_hash={hash}&content_type=application%2Fjson");
            let (_, body) = signed_call(plan, "download-media", &extra).await?;
            let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
            if v["download_status"]["status"] == "ready" {
                let url = v["download_status"]["download_url"]
                    .as_str()
                    .ok_or("no download_url")?;
                // the path only: the host in it is the one the server saw
                let path = url
                    .find("/media/")
                    .map(|i| url[i..].to_string())
                    .ok_or("odd download_url")?;
                links.push(path);
                break;
            }
            if Instant::now() > until {
                return Err(format!("order for {id} never got ready"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(links)
}

/// What one phase of the renders run saw.
#[derive(Default)]
struct PhaseTally {
    statuses: std::collections::BTreeMap<u16, u64>,
    bytes: u64,
    errors: u64,
    api: Tally,
    max_rss_kb: u64,
}

/// Runs `fetchers` (each a source address and the paths it fetches in turn)
/// to the end, while timing signed host-info and sampling the RSS.
async fn phase(
    plan: Arc<Plan>,
    pid: u32,
    fetchers: Vec<(std::net::IpAddr, Vec<String>)>,
    api_connections: usize,
    max_seconds: f64,
) -> PhaseTally {
    let deadline = Instant::now() + Duration::from_secs_f64(max_seconds);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Timing and sampling on a thread of their own, so the fetches' reading
    // does not delay them.
    let timer = {
        let done = Arc::clone(&done);
        let plan = Arc::clone(&plan);
        std::thread::spawn(move || -> (Tally, u64) {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return (Tally::default(), 0);
            };
            rt.block_on(async move {
                let sampler = {
                    let done = Arc::clone(&done);
                    tokio::spawn(async move {
                        let mut max = 0;
                        while !done.load(std::sync::atomic::Ordering::Relaxed) {
                            max = max.max(server_memory(pid).0);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        max.max(server_memory(pid).0)
                    })
                };
                let api: Vec<_> = (0..api_connections)
                    .map(|c| {
                        tokio::spawn(time_api(Arc::clone(&plan), c, Arc::clone(&done), deadline))
                    })
                    .collect();
                let mut tally = Tally::default();
                for a in api {
                    if let Ok(t) = a.await {
                        tally.merge(t);
                    }
                }
                (tally, sampler.await.unwrap_or(0))
            })
        })
    };
    let fetches: Vec<_> = fetchers
        .into_iter()
        .map(|(source, paths)| {
            let addr = plan.addr;
            tokio::spawn(async move {
                let mut t = PhaseTally::default();
                let mut stream: Option<TcpStream> = None;
                for path in paths {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let s = match stream.as_mut() {
                        Some(s) => s,
                        None => match connect_from(source, addr).await {
                            Ok(s) => stream.insert(s),
                            Err(_) => {
                                t.errors += 1;
                                continue;
                            }
                        },
                    };
                    let req = format!(
                        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: panthera-load\r\n\r\n"
                    );
                    let left = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, exchange_discard(s, req.as_bytes())).await {
                        Ok(Ok((status, len, keep))) => {
                            *t.statuses.entry(status).or_default() += 1;
                            t.bytes += len as u64;
                            if !keep {
                                stream = None;
                            }
                        }
                        _ => {
                            t.errors += 1;
                            stream = None;
                        }
                    }
                }
                t
            })
        })
        .collect();
    let mut total = PhaseTally::default();
    for f in fetches {
        if let Ok(t) = f.await {
            for (s, n) in t.statuses {
                *total.statuses.entry(s).or_default() += n;
            }
            total.bytes += t.bytes;
            total.errors += t.errors;
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Ok((api, rss)) = timer.join() {
        total.api = api;
        total.max_rss_kb = rss;
    }
    total
}

/// Signed host-info, closed loop on one connection, until `done`.
async fn time_api(
    plan: Arc<Plan>,
    c: usize,
    done: Arc<std::sync::atomic::AtomicBool>,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut stamp = Stamp::default();
    let mut seq = 0u64;
    let mut buf = Vec::with_capacity(16 * 1024);
    let going = || !done.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline;
    while going() {
        let Ok(mut stream) = TcpStream::connect(plan.addr).await else {
            tally.errors += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        while going() {
            seq += 1;
            let req = build(&plan, 10_000 + c, seq, &mut stamp, None);
            let t0 = Instant::now();
            match exchange(&mut stream, &req.bytes, &mut buf).await {
                Ok((status, keep)) => {
                    let us = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                    tally.latencies_us.push(us);
                    *tally.statuses.entry(status).or_default() += 1;
                    if !keep {
                        break;
                    }
                }
                Err(_) => {
                    tally.errors += 1;
                    break;
                }
            }
        }
    }
    tally
}

fn renders(args: RendersArgs) -> Result<ExitCode, String> {
    if args.target.key.is_empty() || args.target.secret.is_empty() {
        return Err("renders needs --key and --secret (or PANTHERA_API_KEY/SECRET)".into());
    }
    let plan = Arc::new(Plan {
        addr: args.target.addr,
        key: args.target.key.clone(),
        secret: args.target.secret.clone(),
        algo: Algo::Sha1,
        json: false,
        scenario: Scenario::Signed,
        run_id: rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(6)
            .map(char::from)
            .collect(),
        record: None,
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let links = buy_links(&plan, &args.media, args.article).await?;
        let (rss0, _) = server_memory(args.pid);
        println!(
            "bought {} downloads (article {}); server RSS {:.1} MB before the fetches",
            links.len(),
            args.article,
            rss0 as f64 / 1024.0
        );
        let source = |i: u8| std::net::IpAddr::from([127, 0, 0, 2 + i]);
        let mut fetchers = Vec::new();
        for s in 0..args.sources {
            for c in 0..args.per_source {
                let n = usize::from(s) * args.per_source + c;
                let paths = (0..args.fetches)
                    .map(|k| links[(n + k) % links.len()].clone())
                    .collect();
                fetchers.push((source(s), paths));
            }
        }
        let started = Instant::now();
        let t = phase(
            Arc::clone(&plan),
            args.pid,
            fetchers,
            args.api_connections,
            args.max_seconds,
        )
        .await;
        print_phase(
            &format!(
                "downloads: {} connections from {} addresses, {} fetches each",
                usize::from(args.sources) * args.per_source,
                args.sources,
                args.fetches
            ),
            &t,
            started.elapsed(),
            args.pid,
        );
        if args.preview_connections > 0 {
            let fetchers = (0..args.preview_connections)
                .map(|c| {
                    let paths = (0..args.fetches)
                        .map(|k| {
                            format!(
                                "/media/preview-high/{}.jpg",
                                1 + (c * args.fetches + k) % 250
                            )
                        })
                        .collect();
                    (source(args.sources), paths)
                })
                .collect();
            let started = Instant::now();
            let t = phase(
                Arc::clone(&plan),
                args.pid,
                fetchers,
                args.api_connections,
                args.max_seconds,
            )
            .await;
            print_phase(
                &format!(
                    "previews: {} connections from one address, {} preview-high fetches each",
                    args.preview_connections, args.fetches
                ),
                &t,
                started.elapsed(),
                args.pid,
            );
        }
        Ok::<_, String>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_phase(name: &str, t: &PhaseTally, took: Duration, pid: u32) {
    let mut lat = t.api.latencies_us.clone();
    lat.sort_unstable();
    let ms = |us: u32| f64::from(us) / 1000.0;
    let statuses = t
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let api_statuses = t
        .api
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let (rss, hwm) = server_memory(pid);
    println!(
        "{name}: {:.1} s; statuses {statuses}; {:.1} MB received; transport errors {}",
        took.as_secs_f64(),
        t.bytes as f64 / 1e6,
        t.errors
    );
    println!(
        "  signed host-info meanwhile: {} answers ({api_statuses}), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}",
        lat.len(),
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or(0)),
        t.api.errors
    );
    println!(
        "  server RSS: peak sampled {:.1} MB, now {:.1} MB, high-water mark (VmHWM) {:.1} MB",
        t.max_rss_kb as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    println!(
        "RESULT phase={} fetches={} status5xx={} api_answers={} api_p50_us={} api_p99_us={} rss_peak_kb={} rss_end_kb={rss} hwm_kb={hwm} seconds={:.1}",
        name.split(':').next().unwrap_or(name),
        t.statuses.values().sum::<u64>(),
        t.statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum::<u64>(),
        lat.len(),
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        t.max_rss_kb,
        took.as_secs_f64()
    );
}
