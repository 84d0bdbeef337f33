//! Operations over real HTTP (issue 7): rate limits and their headers, the
//! failed-authentication throttle, the per-address cap, timeouts, sealed
//! secrets and their rotation, metrics, health, reload, shutdown, backups.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use panthera::client::{random_nonce, sign_params, Client, Credentials, Reply};
use panthera::store::now_unix;

use crate::helpers::{eventually, get, metric, parse_reply, signed_body, Server};

fn host_info(s: &Server, creds: &Credentials, extra: &[(&str, &str)]) -> Reply {
    Client::new(&s.base, creds.clone())
        .call(None, "host-info", extra)
        .expect("call")
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} header in {:?}", r.headers))
}

fn wrong_secret(creds: &Credentials) -> Credentials {
    Credentials {
        api_secret: "0".repeat(40),
        ..creds.clone()
    }
}

/// A POST whose head and first body bytes are sent, the rest held back.
struct SlowRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowRequest {
    fn start(addr: &str, body: &str, sent: usize) -> SlowRequest {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        let head = format!(
            "POST /host-info HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: slow\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("head");
        stream.write_all(&body.as_bytes()[..sent]).expect("part");
        stream.flush().expect("flush");
        SlowRequest {
            stream,
            rest: body.as_bytes()[sent..].to_vec(),
        }
    }

    /// Sends the rest and reads the whole answer.
    fn finish(mut self) -> Reply {
        self.stream.write_all(&self.rest).expect("rest");
        self.read()
    }

    fn read(&mut self) -> Reply {
        let mut buf = Vec::new();
        let _ = self.stream.read_to_end(&mut buf);
        parse_reply(&buf)
    }
}

#[test]
fn rate_limit_headers_429_and_recovery() {
    let s = Server::start_with("[rate_limits.default]\nburst = 3\nper_second = 0.5\ndaily = 0\n");
    let creds = s.demo.clone().unwrap();
    for left in ["2", "1", "0"] {
        let r = host_info(&s, &creds, &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(header(&r, "x-ratelimit-limit"), "3");
        assert_eq!(header(&r, "x-ratelimit-remaining"), left);
        let reset: i64 = header(&r, "x-ratelimit-reset").parse().unwrap();
        let now = now_unix();
        assert!(reset >= now - 1 && reset <= now + 7, "{reset} vs {now}");
        assert_eq!(header(&r, "ratelimit-policy"), "\"default\";q=3;w=6");
        assert!(
            header(&r, "ratelimit").starts_with(&format!("\"default\";r={left};t=")),
            "{:?}",
            r.header("ratelimit")
        );
        assert!(r.header("retry-after").is_none());
    }
    // the fourth is a normal error in the format asked for, with every header
    let r = host_info(&s, &creds, &[("content_type", "application/json")]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["stat"], "fail");
    assert_eq!(v["err"]["code"], 429);
    assert!(v["err"]["msg"]
        .as_str()
        .unwrap()
        .contains("rate limit exceeded"));
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    assert!(header(&r, "ratelimit").starts_with("\"default\";r=0;t="));
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let r = host_info(&s, &creds, &[]);
    assert_eq!(r.status, 429);
    assert!(r.body.contains("<err code=\"429\""), "{}", r.body);
    // recovered once the bucket refilled
    std::thread::sleep(Duration::from_millis(wait * 1000 + 300));
    let r = host_info(&s, &creds, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    // other keys have their own bucket
    let other = s.create_key("other");
    assert_eq!(host_info(&s, &other, &[]).status, 200);
    // an answer before authentication carries no rate-limit header
    let r = host_info(&s, &wrong_secret(&creds), &[]);
    assert_eq!(r.status, 403);
    assert!(r.header("x-ratelimit-limit").is_none());
    assert!(metric(&s, "panthera_rate_limited_total{limit=\"api_key\"}") >= 2.0);
}

#[test]
fn normal_errors_after_authentication_carry_the_headers_too() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = Client::new(&s.base, creds)
        .call(None, "get-method-info", &[])
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(header(&r, "x-ratelimit-limit"), "60");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "59");
    assert_eq!(
        header(&r, "ratelimit-policy"),
        "\"default\";q=60;w=6, \"default-daily\";q=100000;w=86400"
    );
}

#[test]
fn a_method_policy_limits_that_method_alone() {
    let s =
        Server::start_with("[rate_limits.methods.get-method-list]\nburst = 1\nper_second = 0.01\n");
    let c = s.client();
    assert_eq!(c.call(None, "get-method-list", &[]).unwrap().status, 200);
    let r = c.call(None, "get-method-list", &[]).unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("policy get-method-list"), "{}", r.body);
    assert_eq!(
        header(&r, "ratelimit-policy"),
        "\"get-method-list\";q=1;w=100"
    );
    assert_eq!(header(&r, "retry-after"), "100");
    assert_eq!(c.call(None, "host-info", &[]).unwrap().status, 200);
}

#[test]
fn the_daily_quota_resets_with_the_utc_day() {
    let tmp = tempfile::tempdir().unwrap();
    let offset = tmp.path().join("clock-offset");
    std::fs::write(&offset, "0").unwrap();
    let config = format!(
        "[testing]\nclock_offset_file = {:?}\n[rate_limits.default]\nburst = 50\nper_second = 50.0\ndaily = 2\n",
        offset.display().to_string()
    );
    let s = Server::start_in(&tmp.path().join("data"), &config);
    let creds = s.demo.clone().unwrap();
    for _ in 0..2 {
        assert_eq!(host_info(&s, &creds, &[]).status, 200);
    }
    let r = host_info(&s, &creds, &[]);
    assert_eq!(r.status, 429);
    let now = now_unix();
    let midnight = (now / 86_400 + 1) * 86_400;
    let wait: i64 = header(&r, "retry-after").parse().unwrap();
    assert!((wait - (midnight - now)).abs() <= 2, "{wait}");
    assert_eq!(header(&r, "x-ratelimit-limit"), "2");
    let reset: i64 = header(&r, "x-ratelimit-reset").parse().unwrap();
    assert!((reset - midnight).abs() <= 1, "{reset} vs {midnight}");
    assert!(header(&r, "ratelimit").contains("\"default-daily\";r=0;"));
    // a day later (the server's clock moved; the client signs with its time)
    std::fs::write(&offset, "86400").unwrap();
    let form = sign_params(&creds, now_unix() + 86_400, &random_nonce());
    let r = s
        .client()
        .post_form(&format!("{}/host-info", s.base), &form)
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(header(&r, "x-ratelimit-remaining"), "1");
}

#[test]
fn failed_authentications_are_throttled_per_address() {
    let s =
        Server::start_with("[rate_limits.failed_auth_per_address]\nburst = 3\nper_second = 0.5\n");
    let creds = s.demo.clone().unwrap();
    for _ in 0..3 {
        assert_eq!(host_info(&s, &wrong_secret(&creds), &[]).status, 403);
    }
    // now even the right secret is refused before it is checked
    let r = host_info(&s, &creds, &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(
        r.body
            .starts_with("429 Too Many Requests (too many failed authentications"),
        "{}",
        r.body
    );
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // unknown keys count too, and every reason shows in the metrics
    assert_eq!(
        metric(&s, "panthera_auth_failures_total{reason=\"bad_signature\"}"),
        3.0
    );
    assert!(metric(&s, "panthera_rate_limited_total{limit=\"failed_auth\"}") >= 1.0);
    std::thread::sleep(Duration::from_millis(wait * 1000 + 300));
    assert_eq!(host_info(&s, &creds, &[]).status, 200);
    // the refusal was logged inside the request's span, with its id
    let id = r.header("x-request-id").unwrap();
    assert!(
        s.log()
            .lines()
            .any(|l| l.contains("too many failed authentications") && l.contains(id)),
        "{}",
        s.log()
    );
}

#[test]
fn failed_authentications_are_throttled_per_key_from_anywhere() {
    let s = Server::start_with("[rate_limits.failed_auth_per_key]\nburst = 2\nper_second = 0.1\n");
    let victim = s.create_key("victim");
    let other = s.create_key("other");
    for _ in 0..2 {
        assert_eq!(host_info(&s, &wrong_secret(&victim), &[]).status, 403);
    }
    let r = host_info(&s, &victim, &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((9..=10).contains(&wait), "{wait}");
    // the address itself is not blocked: another key works
    assert_eq!(host_info(&s, &other, &[]).status, 200);
    // unknown keys never create per-key counters
    let ghost = Credentials {
        api_key: "f".repeat(64),
        ..other.clone()
    };
    for _ in 0..3 {
        assert_eq!(host_info(&s, &ghost, &[]).status, 403);
    }
}

#[test]
fn too_many_requests_in_flight_from_one_address_get_421() {
    let s = Server::start_with(
        "[limits]\nmax_in_flight_per_address = 2\nin_flight_retry_after_secs = 3\n",
    );
    let creds = s.demo.clone().unwrap();
    let body = signed_body(&creds, &[]);
    // one after the other, so that no probe below races them for a slot
    let slow: Vec<SlowRequest> = (0..2)
        .map(|_| {
            let r = SlowRequest::start(&s.addr, &body, 5);
            std::thread::sleep(Duration::from_millis(300));
            r
        })
        .collect();
    let mut refused = None;
    assert!(
        eventually(10, || {
            let r = get(&s.addr, "/health");
            let hit = r.status == 421;
            if hit {
                refused = Some(r);
            }
            hit
        }),
        "the third request was never refused; log:\n{}",
        s.log()
    );
    let r = refused.unwrap();
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(
        r.body.starts_with(
            "421 There are too many connections from your internet address (at most 2 requests at once from 127.0.0.1"
        ),
        "{}",
        r.body
    );
    assert_eq!(header(&r, "retry-after"), "3");
    assert!(r.header("x-request-id").is_some(), "standard headers too");
    // the slow requests themselves finish normally, and the slots come back
    let mut slow = slow.into_iter();
    let first = slow.next().unwrap().finish();
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("<rsp stat=\"ok\">"));
    drop(slow);
    assert!(eventually(5, || get(&s.addr, "/health").status == 200));
    assert!(metric(&s, "panthera_rate_limited_total{limit=\"in_flight\"}") >= 1.0);
}

#[test]
fn slow_and_half_open_clients_time_out() {
    // The head timeout leaves room for a busy machine: a head that arrives
    // late is answered 408 by actix itself, without the pipeline's message.
    let s = Server::start_with(
        "[server]\nclient_request_timeout_ms = 2000\n[limits]\nbody_timeout_secs = 1\n",
    );
    // a head that never ends: the connection is dropped
    let started = Instant::now();
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"POST /host-info HTTP/1.1\r\nHost: x\r\nUser-Ag")
        .unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // a body that stops half-way: 408 from the pipeline
    let body = signed_body(s.demo.as_ref().unwrap(), &[]);
    let mut slow = SlowRequest::start(&s.addr, &body, 10);
    let r = slow.read();
    assert_eq!(r.status, 408, "{}", r.body);
    assert_eq!(
        r.body,
        "408 Request Timeout (the request body did not arrive within 1 s)"
    );
    // and the server is fine
    assert_eq!(s.client().call(None, "host-info", &[]).unwrap().status, 200);
}

#[test]
fn secrets_are_sealed_in_the_database_file() {
    if crate::helpers::on_postgres() {
        return; // it reads the SQLite file itself
    }
    let s = Server::start();
    let k = s.create_key("sealed");
    let demo = s.demo.clone().unwrap();
    let db = rusqlite::Connection::open(s.dir.join("panthera.db")).unwrap();
    let rows: Vec<(String, String)> = db
        .prepare("SELECT api_key, secret FROM api_keys")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.len() >= 2);
    for (key, stored) in &rows {
        for printed in [&k.api_secret, &demo.api_secret] {
            assert_ne!(stored, printed);
            assert!(!stored.contains(printed.as_str()), "{key}: {stored}");
        }
        assert!(stored.starts_with("v1."), "{stored}");
    }
    // nor anywhere else in the file
    drop(db);
    let bytes = std::fs::read(s.dir.join("panthera.db")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&k.api_secret));
    let key_file = s.dir.join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let master = std::fs::read_to_string(&key_file).unwrap();
    assert!(!s.log().contains(master.trim()));
    // the sealed secret still signs
    assert_eq!(host_info(&s, &k, &[]).status, 200);
    let check = s.cli(&["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn a_secret_rollover_accepts_both_until_retired() {
    let s = Server::start();
    let old = s.create_key("rolling");
    let out = s.cli(&["keys", "rotate", &old.api_key, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let new = Credentials {
        api_secret: v["api_secret"].as_str().unwrap().to_string(),
        ..old.clone()
    };
    assert_ne!(new.api_secret, old.api_secret);
    assert!(v["old_secret_until"].as_i64().unwrap() > now_unix() + 86_400);
    for c in [&old, &new, &old] {
        assert_eq!(host_info(&s, c, &[]).status, 200);
    }
    let list = String::from_utf8(s.cli(&["keys", "list"]).stdout).unwrap();
    assert!(
        list.lines()
            .any(|l| l.contains(&old.api_key) && l.contains("rollover")),
        "{list}"
    );
    // a second rotation waits for the first to end
    assert!(!s.cli(&["keys", "rotate", &old.api_key]).status.success());
    assert!(s
        .cli(&["keys", "retire-secret", &old.api_key])
        .status
        .success());
    assert_eq!(host_info(&s, &old, &[]).status, 403);
    assert_eq!(host_info(&s, &new, &[]).status, 200);
    assert!(!s
        .cli(&["keys", "retire-secret", &old.api_key])
        .status
        .success());
}

#[test]
fn the_master_key_rotates_while_the_server_runs() {
    if crate::helpers::on_postgres() {
        return; // on PostgreSQL every instance restarts with the new key (docs/operations.md)
    }
    let s = Server::start();
    let k = s.create_key("app");
    let before = std::fs::read_to_string(s.dir.join("master.key")).unwrap();
    let out = s.cli(&["keys", "rotate-master"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(s.dir.join("master.key")).unwrap();
    assert_ne!(before, after);
    // the running server follows the new key by itself
    assert_eq!(host_info(&s, &k, &[]).status, 200);
    assert_eq!(host_info(&s, s.demo.as_ref().unwrap(), &[]).status, 200);
    assert!(s.cli(&["check"]).status.success());
}

#[test]
fn metrics_count_requests_and_health_answers() {
    let s = Server::start();
    let h = get(&s.addr, "/health");
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-type"), Some("application/json"));
    assert_eq!(h.body, r#"{"status":"ok"}"#);
    let ok_line = "panthera_requests_total{method=\"host-info\",status=\"200\",version=\"1.0\"}";
    let before = metric(&s, ok_line);
    let nonces_before = metric(&s, "panthera_nonces ");
    let creds = s.demo.clone().unwrap();
    host_info(&s, &creds, &[]);
    host_info(&s, &creds, &[]);
    host_info(&s, &wrong_secret(&creds), &[]);
    assert_eq!(metric(&s, ok_line), before + 2.0);
    assert_eq!(
        metric(&s, "panthera_auth_failures_total{reason=\"bad_signature\"}"),
        1.0
    );
    if !crate::helpers::on_postgres() {
        // the live claims this process holds (SQLite; on PostgreSQL the
        // database holds them for every instance)
        assert_eq!(metric(&s, "panthera_nonces "), nonces_before + 2.0);
    }
    assert!(
        metric(
            &s,
            "panthera_request_duration_seconds_count{method=\"host-info\"}"
        ) >= 3.0
    );
    let page = get(&s.addr, "/metrics");
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    for name in [
        "# TYPE panthera_requests_total counter",
        "# TYPE panthera_request_duration_seconds histogram",
        "panthera_in_flight_requests ",
        "panthera_rate_limit_buckets ",
    ] {
        assert!(page.body.contains(name), "{name}");
    }
}

#[test]
fn metrics_are_refused_to_addresses_not_allowed() {
    let s = Server::start_with("[metrics]\nallow = [\"10.0.0.0/8\"]\n");
    assert_eq!(get(&s.addr, "/metrics").status, 403);
    assert_eq!(get(&s.addr, "/health").status, 200);
}

#[test]
fn reload_applies_version_states_without_dropping_connections() {
    let keep = "[server]\nkeep_alive_secs = 60\n";
    let s = Server::start_with(keep);
    // a keep-alive connection opened before the reload
    let mut conn = TcpStream::connect(&s.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ask = |conn: &mut TcpStream| -> u16 {
        let req = format!(
            "GET /v1.1/ HTTP/1.1\r\nHost: {}\r\nUser-Agent: t\r\n\r\n",
            s.addr
        );
        conn.write_all(req.as_bytes()).unwrap();
        read_one_answer(conn)
    };
    assert_eq!(ask(&mut conn), 200);
    let gone =
        "[versions.states]\n\"1.0\" = \"current\"\n\"1.1\" = \"gone\"\n\"1.2\" = \"current\"\n";
    std::fs::write(s.config_path(), format!("{keep}{gone}")).unwrap();
    let out = s.cli(&["reload"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&s.pid().to_string()));
    assert!(
        eventually(5, || get(&s.addr, "/v1.1/").status == 410),
        "1.1 never went away"
    );
    assert_eq!(ask(&mut conn), 410, "the old connection is still served");
    // SIGHUP does the same; a broken file changes nothing
    let broken = "[versions]\ndeprecated_status = 301\n";
    std::fs::write(s.config_path(), format!("{keep}{broken}")).unwrap();
    s.signal("HUP");
    assert!(eventually(5, || {
        metric(&s, "panthera_config_reloads_total{result=\"failed\"}") >= 1.0
    }));
    assert_eq!(get(&s.addr, "/v1.1/").status, 410);
    std::fs::write(s.config_path(), keep).unwrap();
    s.signal("HUP");
    assert!(eventually(5, || get(&s.addr, "/v1.1/").status == 200));
    assert_eq!(ask(&mut conn), 200);
    assert!(metric(&s, "panthera_config_reloads_total{result=\"ok\"}") >= 2.0);
    assert!(s.log().contains("configuration reloaded"));
    assert!(!s.log().contains("needs_restart"), "{}", s.log());
}

/// Reads one HTTP/1.1 answer with a Content-Length off a kept-alive connection.
fn read_one_answer(conn: &mut TcpStream) -> u16 {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).unwrap(), 1, "connection closed");
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).unwrap();
    parse_reply(&buf).status
}

#[test]
fn shutdown_under_load_finishes_requests_in_flight() {
    let mut s = Server::start_with("[rate_limits]\nenabled = false\n");
    let creds = s.demo.clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, base, creds) = (stop.clone(), s.base.clone(), creds.clone());
            std::thread::spawn(move || {
                let client = Client::new(&base, creds);
                let (mut answered, mut failed) = (0, 0);
                while !stop.load(Ordering::Relaxed) && failed < 20 {
                    match client.call(None, "host-info", &[]) {
                        Ok(r) => {
                            // every answer that arrives is whole
                            assert_eq!(r.status, 200, "{}", r.body);
                            assert!(r.body.trim_end().ends_with("</rsp>"), "{}", r.body);
                            answered += 1;
                        }
                        Err(_) => {
                            failed += 1;
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // one request is in the middle of its body when the signal comes
    let body = signed_body(&creds, &[]);
    let slow = SlowRequest::start(&s.addr, &body, 8);
    std::thread::sleep(Duration::from_millis(300));
    s.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    let r = slow.finish();
    assert_eq!(
        r.status, 200,
        "the request in flight got its answer: {}",
        r.body
    );
    assert!(r.body.contains("<rsp stat=\"ok\">"));
    let status = s.wait_exit(20).expect("the server stops");
    assert!(status.success(), "{status:?}");
    stop.store(true, Ordering::Relaxed);
    let answered: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(answered > 0);
    assert!(
        !s.dir.join("panthera.pid").exists(),
        "the pid file is removed"
    );
    assert!(s.log().contains("stopped"));
}

#[test]
fn a_backup_under_write_load_restores_and_checks() {
    if crate::helpers::on_postgres() {
        return; // backup/restore/check are for the SQLite file (pg_dump on PostgreSQL)
    }
    let s = Server::start_with("[rate_limits]\nenabled = false\n");
    let creds = s.demo.clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let (stop, base, creds) = (stop.clone(), s.base.clone(), creds.clone());
            std::thread::spawn(move || {
                let client = Client::new(&base, creds);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(client.call(None, "host-info", &[]).unwrap().status, 200);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("backup.db");
    let out = s.cli(&["backup", file.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let writes: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(writes > 10, "{writes}");
    let check = s.cli(&["check", file.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // restore into a new data directory (with the master key copied there)
    let restored = tmp.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    let without_key = std::process::Command::new(crate::helpers::BIN)
        .args(["restore", file.to_str().unwrap(), "--data-dir"])
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        !without_key.status.success(),
        "refused without the master key"
    );
    std::fs::copy(s.dir.join("master.key"), restored.join("master.key")).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(crate::helpers::BIN)
            .args(args)
            .arg("--data-dir")
            .arg(&restored)
            .output()
            .unwrap()
    };
    let out = run(&["restore", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    // a server on the restored store accepts the demo key
    let again = Server::start_in(&restored, "");
    assert!(again.demo.is_none(), "the demo came from the backup");
    assert_eq!(host_info(&again, &creds, &[]).status, 200);
    // restore refuses to run under a live server
    let out = run(&["restore", file.to_str().unwrap()]);
    assert!(!out.status.success());
}

#[test]
fn check_reports_a_damaged_store() {
    if crate::helpers::on_postgres() {
        return; // backup/restore/check are for the SQLite file (pg_dump on PostgreSQL)
    }
    let s = Server::start();
    let db = rusqlite::Connection::open(s.dir.join("panthera.db")).unwrap();
    db.execute_batch("PRAGMA foreign_keys = OFF; UPDATE api_keys SET owner_user_id = 'ghost';")
        .unwrap();
    drop(db);
    let out = s.cli(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("foreign key"));
}

#[test]
fn json_logs_carry_the_request_id_and_no_secret() {
    let s = Server::start_with(
        "[log]\nformat = \"json\"\n[rate_limits.failed_auth_per_address]\nburst = 1\nper_second = 0.1\n",
    );
    let creds = s.demo.clone().unwrap();
    assert_eq!(host_info(&s, &wrong_secret(&creds), &[]).status, 403);
    let refused = host_info(&s, &creds, &[]);
    assert_eq!(refused.status, 429);
    let id = refused.header("x-request-id").unwrap().to_string();
    let log = s.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["fields"]["message"] == "request")
        .collect();
    assert!(access.len() >= 2);
    for v in &access {
        assert!(v["fields"]["request_id"].is_string(), "{v}");
    }
    let warn = lines
        .iter()
        .find(|v| v["level"] == "WARN" && v["target"] == "panthera::ops::gate")
        .expect("the throttle logs");
    assert_eq!(warn["span"]["request_id"], id.as_str(), "{warn}");
    assert!(!log.contains(&creds.api_secret));
}

#[test]
fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let throttle = "[rate_limits.failed_auth_per_address]\nburst = 1\nper_second = 0.01\n";
    let post = |s: &Server, creds: &Credentials, client: &str| {
        crate::helpers::raw_post(
            &s.addr,
            "/host-info",
            &format!("X-Forwarded-For: 192.0.2.99, {client}\r\n"),
            "application/x-www-form-urlencoded",
            &signed_body(creds, &[]),
        )
        .status
    };
    // behind a trusted proxy each forwarded client has its own counter
    let s = Server::start_with(&format!(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n{throttle}"
    ));
    let creds = s.demo.clone().unwrap();
    assert_eq!(post(&s, &wrong_secret(&creds), "198.51.100.1"), 403);
    assert_eq!(post(&s, &creds, "198.51.100.1"), 429);
    assert_eq!(post(&s, &creds, "198.51.100.2"), 200);
    // from an untrusted peer the header is ignored: all is 127.0.0.1
    let s = Server::start_with(throttle);
    let creds = s.demo.clone().unwrap();
    assert_eq!(post(&s, &wrong_secret(&creds), "198.51.100.1"), 403);
    assert_eq!(post(&s, &creds, "198.51.100.2"), 429);
}
