//! The server caches api keys between requests and holds the live nonces in
//! memory; a change made with the CLI (another process) must still apply to
//! the very next request, and a second server on the same data directory
//! (which would not see the first one's nonces) is refused.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use panthera::client::{sign_params, Client};
use panthera::store::now_unix;

use crate::helpers::{same_triple, Server, BIN};

#[test]
fn a_replay_policy_changed_by_the_cli_applies_to_the_next_request() {
    let s = Server::start();
    let key = s.create_key("switches to lenient");
    let c = Client::new(&s.base, key.clone());
    let url = format!("{}/get-method-info", s.base);
    let with = same_triple(&key);
    // strict: the triple is used up, whatever the request
    assert_eq!(c.post_form(&url, &with("host-info")).unwrap().status, 200);
    assert_eq!(
        c.post_form(&url, &with("get-method-list")).unwrap().status,
        403
    );
    assert!(s
        .cli(&["keys", "set", &key.api_key, "--replay", "lenient"])
        .status
        .success());
    // lenient: another request with the same triple passes, the same one does not
    let langs = with("get-user-content-langs");
    assert_eq!(c.post_form(&url, &langs).unwrap().status, 200);
    assert_eq!(c.post_form(&url, &langs).unwrap().status, 403);
}

#[test]
fn a_key_revoked_by_the_cli_is_refused_at_once() {
    let s = Server::start();
    let key = s.create_key("revoked while busy");
    let c = Client::new(&s.base, key.clone());
    for _ in 0..20 {
        assert_eq!(c.call(None, "host-info", &[]).unwrap().status, 200);
    }
    assert!(s.cli(&["keys", "revoke", &key.api_key]).status.success());
    for _ in 0..5 {
        let r = c.call(None, "host-info", &[]).unwrap();
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("revoked"), "{}", r.body);
    }
}

#[test]
fn debug_switched_on_by_the_cli_shows_the_signed_string_at_once() {
    let s = Server::start();
    let key = s.create_key("debugged later");
    let c = Client::new(&s.base, key.clone());
    assert_eq!(c.call(None, "host-info", &[]).unwrap().status, 200);
    assert!(s
        .cli(&["keys", "set", &key.api_key, "--debug", "on"])
        .status
        .success());
    let mut form = sign_params(&key, now_unix(), "wrong-signature");
    for (name, value) in form.iter_mut() {
        if name == "access_key" {
            value.replace_range(0..1, if value.starts_with('0') { "1" } else { "0" });
        }
    }
    let r = c
        .post_form(&format!("{}/host-info", s.base), &form)
        .unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("wrong-signature"), "{}", r.body);
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    if crate::helpers::on_postgres() {
        return; // several instances share a PostgreSQL database on purpose
    }
    let s = Server::start();
    let mut second = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(s.config_path())
        .arg("--data-dir")
        .arg(&s.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = second.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("the second server kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("another panthera"), "{err}");
    // the first one is unharmed
    assert_eq!(s.client().call(None, "host-info", &[]).unwrap().status, 200);
}
