//! Open-connection caps over real TCP (issue 12, defect 4): per client
//! address (`421`, the connection closed at once) and in total (`503`),
//! trusted proxies exempt, slots freed when connections close, other
//! addresses served meanwhile; and the open-file limit raised at start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{eventually, get, parse_reply, Server, BIN};

/// The per-address cap of these tests, with idle connections kept long.
fn config(per_address: u32, extra: &str) -> String {
    format!(
        "[server]\nkeep_alive_secs = 120\nclient_request_timeout_ms = 60000\n{extra}\n\
         [limits]\nmax_connections_per_address = {per_address}\n"
    )
}

/// A connection from `from` (any loopback address) to the server.
fn connect_from(from: &str, to: &str) -> TcpStream {
    let to: SocketAddr = to.parse().expect("server address");
    let from: SocketAddr = format!("{from}:0").parse().expect("local address");
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.bind(&from.into()).expect("bind the local address");
    socket.connect(&to.into()).expect("connect");
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
}

/// Sends `GET /health` on a kept-alive connection and reads one answer;
/// its status, or `None` when the connection was closed instead.
fn health_keep_alive(stream: &mut TcpStream, addr: &str) -> Option<u16> {
    let req = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: test\r\n\r\n");
    stream.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = parse_reply(&buf);
    let len: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).ok()?;
    Some(head.status)
}

/// `n` admitted, idle keep-alive connections from `from`.
fn idle_connections(n: usize, from: &str, addr: &str) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut c = connect_from(from, addr);
            assert_eq!(
                health_keep_alive(&mut c, addr),
                Some(200),
                "connection {i} from {from} was not served"
            );
            c
        })
        .collect()
}

/// Everything the server sends until it closes the connection.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let r = stream.read_to_end(&mut buf);
    assert!(
        r.is_ok() || !buf.is_empty(),
        "the connection was neither answered nor closed: {r:?}"
    );
    String::from_utf8_lossy(&buf).into_owned()
}

fn metric(page: &str, name: &str) -> f64 {
    page.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1.0)
}

#[test]
fn idle_connections_over_the_per_address_cap_get_421_and_are_closed() {
    let s = Server::start_with(&config(3, ""));
    let mut held = idle_connections(3, "127.0.0.1", &s.addr);

    // One more, sending nothing: answered and closed at once, not left idle.
    let mut extra = connect_from("127.0.0.1", &s.addr);
    let text = read_until_closed(&mut extra);
    let r = parse_reply(text.as_bytes());
    assert_eq!(r.status, 421, "{text}");
    assert_eq!(r.header("connection"), Some("close"), "{text}");
    assert_eq!(r.header("retry-after"), Some("1"), "{text}");
    assert_eq!(
        r.body,
        "421 There are too many connections from your internet address (at most 3 connections at once from 127.0.0.1, retry in 1 s)"
    );

    // One more that sends its request at once gets the same answer.
    let mut eager = connect_from("127.0.0.1", &s.addr);
    let _ = eager.write_all(
        format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nUser-Agent: t\r\n\r\n",
            s.addr
        )
        .as_bytes(),
    );
    let text = read_until_closed(&mut eager);
    assert!(text.starts_with("HTTP/1.1 421 "), "{text}");

    // The held ones still work.
    for c in &mut held {
        assert_eq!(health_keep_alive(c, &s.addr), Some(200));
    }

    // Another address is served meanwhile (Linux routes all of 127/8 to lo).
    let mut other = idle_connections(3, "127.0.0.2", &s.addr);
    assert_eq!(health_keep_alive(&mut other[0], &s.addr), Some(200));
    drop(other);

    // Closing one connection frees its slot.
    drop(held.pop());
    let mut again = None;
    assert!(
        eventually(10, || {
            let mut c = connect_from("127.0.0.1", &s.addr);
            let ok = health_keep_alive(&mut c, &s.addr) == Some(200);
            if ok {
                again = Some(c);
            }
            ok
        }),
        "the freed slot never came back; log:\n{}",
        s.log()
    );
    // ... and only that one.
    let mut over = connect_from("127.0.0.1", &s.addr);
    assert!(read_until_closed(&mut over).starts_with("HTTP/1.1 421 "));

    // The metrics (read from another address) count the open connections
    // and the refusals.
    drop(held);
    drop(again);
    let mut page = String::new();
    assert!(eventually(10, || {
        let mut c = connect_from("127.0.0.2", &s.addr);
        let req = format!(
            "GET /metrics HTTP/1.1\r\nHost: {}\r\nUser-Agent: t\r\nConnection: close\r\n\r\n",
            s.addr
        );
        c.write_all(req.as_bytes()).expect("write");
        page = read_until_closed(&mut c);
        metric(&page, "panthera_open_connections ") == 1.0
    }));
    assert!(
        metric(&page, "panthera_rate_limited_total{limit=\"connections\"}") >= 3.0,
        "{page}"
    );
}

#[test]
fn the_total_cap_refuses_everyone_with_503_until_a_connection_closes() {
    let s = Server::start_with(
        "[server]\nkeep_alive_secs = 120\n[limits]\nmax_connections = 2\nmax_connections_per_address = 0\n",
    );
    let mut a = idle_connections(1, "127.0.0.1", &s.addr);
    let b = idle_connections(1, "127.0.0.2", &s.addr);
    let mut c = connect_from("127.0.0.3", &s.addr);
    let text = read_until_closed(&mut c);
    let r = parse_reply(text.as_bytes());
    assert_eq!(r.status, 503, "{text}");
    assert!(
        r.body
            .starts_with("503 Service Unavailable (the server has too many open connections"),
        "{text}"
    );
    drop(b);
    assert!(eventually(10, || get(&s.addr, "/health").status == 200));
    assert_eq!(health_keep_alive(&mut a[0], &s.addr), Some(200));
}

#[test]
fn trusted_proxies_are_exempt_from_the_per_address_cap() {
    let s = Server::start_with(&config(1, "trusted_proxies = [\"127.0.0.1\"]"));
    let _held = idle_connections(4, "127.0.0.1", &s.addr);
    // an untrusted address is still capped
    let _one = idle_connections(1, "127.0.0.2", &s.addr);
    let mut two = connect_from("127.0.0.2", &s.addr);
    assert!(read_until_closed(&mut two).starts_with("HTTP/1.1 421 "));
}

#[test]
fn tls_connections_over_the_cap_get_421_on_their_first_request() {
    let s = Server::start_tls_with(&config(2, ""));
    // each client keeps its connection in its pool
    let clients: Vec<_> = (0..2).map(|_| s.tls_client()).collect();
    for c in &clients {
        let r = c.call(None, "host-info", &[]).expect("call");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = s.tls_client().call(None, "host-info", &[]).expect("call");
    assert_eq!(r.status, 421, "{}", r.body);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(
        r.body.starts_with(
            "421 There are too many connections from your internet address (at most 2 connections"
        ),
        "{}",
        r.body
    );
    // the admitted ones go on
    let r = clients[0].call(None, "host-info", &[]).expect("call");
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("PANTHERA_LOG__LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            lim.rlim_cur = lim.rlim_max.min(256);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn panthera");
    let stdout = child.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("listening on http://"));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening, "the server did not start");
    let limits = limits.expect("/proc/<pid>/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (soft, hard) = (fields[3], fields[4]);
    assert_eq!(soft, hard, "{line}");
    if hard != "256" {
        let mut log = String::new();
        let _ = child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut log);
        assert!(log.contains("raised the open-file limit"), "{log}");
    }
}
