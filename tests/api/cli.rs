//! The command line against a running server's data directory.

use crate::helpers::Server;

#[test]
fn keys_can_be_created_listed_and_revoked_while_the_server_runs() {
    let s = Server::start();
    let k = s.create_key("cli app");
    assert_eq!(k.api_key.len(), 64);
    let list = s.cli(&["keys", "list", "--json"]);
    assert!(list.status.success());
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"cli app") && names.contains(&"demo app"),
        "{names:?}"
    );
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains(&k.api_secret),
        "list never shows secrets"
    );
    let r = panthera::client::Client::new(&s.base, k.clone())
        .call(None, "host-info", &[])
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(!s.cli(&["keys", "revoke", "nope"]).status.success());
}

#[test]
fn call_signs_with_the_demo_key_of_the_data_directory() {
    let s = Server::start();
    let out = s.cli(&["call", "host-info", "--url", &s.base]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<rsp stat=\"ok\">"));
    let out = s.cli(&[
        "call",
        "get-method-info",
        "method=host-info",
        "--json",
        "--url",
        &s.base,
        "--algo",
        "sha512",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["method"]["name"], "host-info");
    let out = s.cli(&["call", "get-method-info", "--url", &s.base]);
    assert_eq!(out.status.code(), Some(1), "an error answer exits 1");
}

#[test]
fn secrets_never_reach_the_log() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    for _ in 0..3 {
        s.client().call(None, "host-info", &[]).unwrap();
    }
    let log = s.log();
    assert!(log.contains("request"), "requests are logged: {log}");
    assert!(!log.contains(&creds.api_secret));
}

#[test]
fn the_first_start_prints_a_demo_key_and_user_once() {
    let mut s = Server::start();
    let (user, password) = s.demo_user.clone().expect("demo user printed");
    assert_eq!(user, "demo");
    assert!(password.len() >= 12, "{password}");
    let creds = s.demo.clone().expect("demo key printed");
    assert_eq!(creds.api_key.len(), 64);
    s.kill_now();
    let again = Server::start_in(&s.dir, "");
    assert!(again.demo.is_none() && again.demo_user.is_none());
    // the printed key works against the restarted server
    let r = panthera::client::Client::new(&again.base, creds)
        .call(None, "host-info", &[])
        .unwrap();
    assert_eq!(r.status, 200);
}
