//! Picture files over real HTTP (issue 12, defect 3): rendered once into
//! `<data_dir>/renders` and served from there with ranges and conditional
//! GETs; renders beyond the bound are told to retry (`503` + `Retry-After`)
//! while requests for a file being rendered share its render; anonymous
//! previews are rate-limited per client address.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Server;

/// One answer with its body as bytes.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` with extra header lines (each ending in `\r\n`).
fn fetch(addr: &str, path: &str, extra: &str) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: test\r\nConnection: close\r\n{extra}\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an answer head");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: buf[split + 4..].to_vec(),
    }
}

/// The finished files in the renders directory.
fn rendered(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("renders"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jpg"));
    files.sort();
    files
}

/// Checks ranges and validators on one served file whose whole body is `full`.
fn ranges_and_validators(addr: &str, path: &str, full: &Answer) {
    let n = full.body.len();
    assert!(n > 100, "a real picture");
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    let etag = full.header("etag").expect("an ETag");
    let modified = full.header("last-modified").expect("a Last-Modified");

    let part = fetch(addr, path, "Range: bytes=0-9\r\n");
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 0-9/{n}").as_str())
    );
    assert_eq!(part.body, full.body[..10]);
    let tail = fetch(addr, path, "Range: bytes=-5\r\n");
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, full.body[n - 5..]);
    let beyond = fetch(addr, path, &format!("Range: bytes={n}-\r\n"));
    assert_eq!(beyond.status, 416);
    assert_eq!(
        beyond.header("content-range"),
        Some(format!("bytes */{n}").as_str())
    );

    let same = fetch(addr, path, &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    let other = fetch(addr, path, "If-None-Match: \"something-else\"\r\n");
    assert_eq!(other.status, 200);
    assert_eq!(other.body, full.body);
    let since = fetch(addr, path, &format!("If-Modified-Since: {modified}\r\n"));
    assert_eq!(since.status, 304);
}

#[test]
fn previews_are_rendered_once_and_kept_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = "/media/preview-high/2.jpg";
    let first = {
        let s = Server::start_in(dir, "");
        assert!(rendered(dir).is_empty());
        let first = fetch(&s.addr, path, "");
        assert_eq!(first.status, 200);
        assert_eq!(first.header("content-type"), Some("image/jpeg"));
        assert_eq!(first.header("content-disposition"), None);
        assert_eq!(&first.body[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
        let files = rendered(dir);
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(std::fs::read(&files[0]).unwrap(), first.body);
        let again = fetch(&s.addr, path, "");
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("etag"), first.header("etag"));
        assert_eq!(rendered(dir), files, "served from the same file");
        ranges_and_validators(&s.addr, path, &first);
        // another rendition is another file
        assert_eq!(fetch(&s.addr, "/media/thumb170/2.jpg", "").status, 200);
        assert_eq!(rendered(dir).len(), 2);
        // what is not public is still not served, cached or not
        assert_eq!(fetch(&s.addr, "/media/preview/304.jpg", "").status, 404);
        first
    };
    // A restarted server serves the kept file: same ETag (same inode, time, size).
    let s = Server::start_in(dir, "");
    let after = fetch(&s.addr, path, "");
    assert_eq!(after.status, 200);
    assert_eq!(after.header("etag"), first.header("etag"));
    let etag = first.header("etag").unwrap();
    assert_eq!(
        fetch(&s.addr, path, &format!("If-None-Match: {etag}\r\n")).status,
        304
    );
}

#[test]
fn downloads_are_served_from_the_renders_directory_with_ranges() {
    let s = Server::start_with("[media]\nworker_interval_ms = 100\n");
    let c = s.client();
    let call = |params: &[(&str, &str)]| -> Value {
        let mut p = params.to_vec();
        p.push(("content_type", "application/json"));
        let r = c.call(None, "download-media", &p).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    };
    let v = call(&[("id_media", "3"), ("id_article", "1")]);
    let hash = v["download_status"]["queue_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let start = Instant::now();
    let url = loop {
        let v = call(&[("id_media", "3"), ("queue_hash", &hash)]);
        if v["download_status"]["status"] == "ready" {
            break v["download_status"]["download_url"]
                .as_str()
                .unwrap()
                .to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never ready");
        std::thread::sleep(Duration::from_millis(100));
    };
    let path = url.strip_prefix(&s.base).unwrap();
    let full = fetch(&s.addr, path, "");
    assert_eq!(full.status, 200);
    assert_eq!(full.header("content-type"), Some("image/jpeg"));
    let disposition = full.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment") && disposition.contains("panthera-3-"),
        "{disposition}"
    );
    let files = rendered(&s.dir);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), full.body);
    ranges_and_validators(&s.addr, path, &full);
    assert_eq!(rendered(&s.dir), files, "rendered once");
    // the link is still checked before the file is served
    let forged = path.replacen("/download/", "/download/9", 1);
    assert_eq!(fetch(&s.addr, &forged, "").status, 404);
}

#[test]
fn renders_beyond_the_bound_are_refused_and_the_same_file_renders_once() {
    let s = Server::start_with(
        "[media]\nrender_concurrency = 1\nrender_queue = 0\nrender_retry_after_secs = 7\n\
         [testing]\nrender_delay_ms = 4000\n",
    );
    let renders = s.dir.join("renders");
    let addr = s.addr.clone();
    std::thread::scope(|sc| {
        let first = sc.spawn(|| fetch(&addr, "/media/preview-high/2.jpg", ""));
        // The render has its slot once its temporary file exists.
        let start = Instant::now();
        while !std::fs::read_dir(&renders)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
        {
            assert!(start.elapsed() < Duration::from_secs(20), "no render began");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The same file: waits for that render (no slot needed).
        let same = sc.spawn(|| fetch(&addr, "/media/preview-high/2.jpg", ""));
        // Another file: no slot free, no room to wait.
        let other = fetch(&addr, "/media/preview-high/3.jpg", "");
        assert_eq!(
            other.status,
            503,
            "{}",
            String::from_utf8_lossy(&other.body)
        );
        assert_eq!(other.header("retry-after"), Some("7"));
        let (first, same) = (first.join().unwrap(), same.join().unwrap());
        assert_eq!((first.status, same.status), (200, 200));
        assert_eq!(first.body, same.body);
    });
    assert_eq!(rendered(&s.dir).len(), 1, "rendered once for both");
    // The slot is free again.
    assert_eq!(fetch(&addr, "/media/preview-high/3.jpg", "").status, 200);
    assert_eq!(rendered(&s.dir).len(), 2);
}

#[test]
fn previews_are_rate_limited_per_client_address() {
    let s = Server::start_with(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n\
         [media.preview_rate_per_address]\nburst = 3\nper_second = 0.01\n",
    );
    let from = |ip: &str, path: &str| fetch(&s.addr, path, &format!("X-Forwarded-For: {ip}\r\n"));
    assert_eq!(from("192.0.2.1", "/media/thumb170/2.jpg").status, 200);
    assert_eq!(from("192.0.2.1", "/media/thumb170/2.jpg").status, 200);
    assert_eq!(
        from("192.0.2.1", "/media/thumb170/999999.jpg").status,
        404,
        "misses count too"
    );
    let refused = from("192.0.2.1", "/media/thumb170/2.jpg");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("100"));
    assert_eq!(
        from("192.0.2.1", "/media/test/2.jpg").status,
        429,
        "test-download files are public pictures too"
    );
    assert_eq!(
        from("192.0.2.2", "/media/thumb170/2.jpg").status,
        200,
        "another address has its own bucket"
    );
    assert_eq!(
        fetch(&s.addr, "/media/thumb170/2.jpg", "").status,
        200,
        "and so has the proxy itself"
    );
}
