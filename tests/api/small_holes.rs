//! The smaller holes of issue 12 (defect 12), over real HTTP and the real
//! binary: JSON bodies naming a key twice are refused like XML and form
//! ones; `/health` reports the store's write state; the first-start banner
//! keeps the demo secret out of the service log.

use std::time::Duration;

use panthera::client::Client;

use crate::helpers::{eventually, get, Server};
use crate::media::{demo_signed_in, put};

#[test]
fn json_bodies_naming_a_key_twice_are_refused_like_xml() {
    let s = Server::start_tls_with("");
    let (_, token) = demo_signed_in(&s);
    let method = "set-user-media-metadata";
    let json = r#"{"id_media": 306, "title": "first", "title": "second"}"#;
    let (st, body) = put(&s, &token, method, "application/json", json, &[]);
    assert_eq!(st, 422, "{body}");
    assert!(
        body.contains("invalid value for 'body': 'title' given twice"),
        "{body}"
    );
    // inside the {"media": …} wrapper too, and the wrapper itself
    for (json, key) in [
        (
            r#"{"media": {"id_media": 306, "editorial": true, "editorial": false}}"#,
            "editorial",
        ),
        (
            r#"{"media": {"id_media": 306}, "media": {"id_media": 307}}"#,
            "media",
        ),
    ] {
        let (st, body) = put(&s, &token, method, "application/json", json, &[]);
        assert_eq!(st, 422, "{json}: {body}");
        assert!(body.contains(&format!("'{key}' given twice")), "{body}");
    }
    // the same refusal as an XML body naming an element twice
    let xml = "<media id_media=\"306\"><title>first</title><title>second</title></media>";
    let (st, body) = put(&s, &token, method, "application/xml", xml, &[]);
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("'title' given twice"), "{body}");
    // nothing was changed by the refused bodies
    let json = r#"{"id_media": 306, "title": "only once"}"#;
    let (st, body) = put(&s, &token, method, "application/json", json, &[]);
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("<title>only once</title>"), "{body}");
}

/// Sets the file-size limit (`RLIMIT_FSIZE`) of a running process: past it
/// every write that grows a file fails (`EFBIG`), as on a full disk.
fn limit_file_size(pid: u32, bytes: Option<u64>) {
    let v = bytes.unwrap_or(libc::RLIM_INFINITY);
    let lim = libc::rlimit {
        rlim_cur: v,
        rlim_max: libc::RLIM_INFINITY,
    };
    let pid = libc::pid_t::try_from(pid).expect("pid");
    // SAFETY: prlimit reads `lim` and writes nothing (null old limit).
    let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &lim, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[test]
fn health_reports_503_while_the_store_takes_no_writes() {
    if crate::helpers::on_postgres() {
        return; // it limits the size of the SQLite file; a stopped PostgreSQL is tested in scale_out
    }
    let s = Server::start();
    let c: Client = s.client();
    let ok = |c: &Client| c.call(None, "host-info", &[]).expect("call").status;
    assert_eq!(ok(&c), 200);
    let h = get(&s.addr, "/health");
    assert_eq!((h.status, h.body.as_str()), (200, r#"{"status":"ok"}"#));

    // The store's files may no longer grow (the disk is full): signed calls,
    // whose nonces must be committed, start failing with 503.
    limit_file_size(s.pid(), Some(64 * 1024));
    let mut statuses = Vec::new();
    for _ in 0..500 {
        let st = ok(&c);
        statuses.push(st);
        if st == 503 {
            break;
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&503),
        "signed calls kept working: {statuses:?}"
    );
    let h = get(&s.addr, "/health");
    assert_eq!(h.status, 503, "{}", h.body);
    assert_eq!(h.body, r#"{"status":"unavailable","writes":"failing"}"#);
    // Still so a while later, with no signed call in between (the health
    // check probes by itself, it does not only echo the last call).
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(get(&s.addr, "/health").status, 503);

    // Space again: health recovers on its own, and so do signed calls.
    limit_file_size(s.pid(), None);
    assert!(
        eventually(10, || get(&s.addr, "/health").status == 200),
        "health did not recover; log:\n{}",
        s.log()
    );
    assert_eq!(ok(&c), 200);
}

#[test]
fn the_first_start_banner_keeps_the_demo_secret_out_of_the_service_log() {
    use std::os::unix::fs::PermissionsExt;
    // helpers::Server pipes standard output (not a terminal, as under a
    // service manager) and keeps standard error in server.log.
    let s = Server::start();
    let creds = s.demo.clone().expect("demo credentials from the file");
    let (user, password) = s.demo_user.clone().expect("demo user from the file");
    assert_eq!(user, "demo");
    let file = s.dir.join("demo-credentials.txt");
    let mode = std::fs::metadata(&file)
        .expect("the credentials file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&creds.api_secret) && text.contains(&password));
    // the log names the file, never the secrets
    let log = s.log();
    assert!(log.contains("demo-credentials.txt"), "{log}");
    assert!(!log.contains(&creds.api_secret), "{log}");
    assert!(!log.contains(&password), "{log}");
    // and the credentials work
    assert_eq!(
        s.client()
            .call(None, "host-info", &[])
            .expect("call")
            .status,
        200
    );
}

#[test]
fn the_first_start_stdout_holds_no_secret_either() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(crate::helpers::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut out = String::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
        out.push_str(&line);
        out.push('\n');
        if line.contains("listening on http://") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let file = dir.path().join("demo-credentials.txt");
    let text = std::fs::read_to_string(&file).expect("credentials file");
    let secret = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("api_secret:"))
        .expect("api_secret line")
        .trim()
        .to_string();
    assert!(!secret.is_empty());
    assert!(!out.contains(&secret), "{out}");
    assert!(!out.contains("api_secret"), "{out}");
    assert!(out.contains(&file.display().to_string()), "{out}");
}
