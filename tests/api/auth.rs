//! App authentication over real HTTP (protocol.md §3).

use std::sync::{Arc, Barrier};

use panthera::client::{sign_params, Client};
use panthera::protocol::signature::{sign_hex, Algo};
use panthera::protocol::timestamp::Timestamp;
use panthera::store::now_unix;

use crate::helpers::{raw_post, same_triple, Server};

fn form(
    creds: &panthera::client::Credentials,
    ts: &str,
    nonce: &str,
    algo: Algo,
) -> Vec<(String, String)> {
    let access_key = sign_hex(
        algo,
        creds.api_secret.as_bytes(),
        &[ts.as_bytes(), creds.api_key.as_bytes(), nonce.as_bytes()],
    );
    vec![
        ("api_key".into(), creds.api_key.clone()),
        ("access_key".into(), access_key),
        ("timestamp".into(), ts.into()),
        ("nonce".into(), nonce.into()),
        ("algo".into(), algo.as_str().into()),
    ]
}

#[test]
fn every_algorithm_signs_host_info() {
    let s = Server::start();
    for algo in Algo::ALL {
        let r = s.client_algo(algo).call(None, "host-info", &[]).unwrap();
        assert_eq!(r.status, 200, "{algo:?}: {}", r.body);
        assert!(r.body.contains("<rsp stat=\"ok\">"), "{}", r.body);
    }
}

#[test]
fn algo_defaults_to_sha1_and_uppercase_hex_is_accepted() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let ts = Timestamp::from_unix(now_unix()).format();
    let mut f = form(&creds, &ts, "upper", Algo::Sha1);
    f.retain(|(k, _)| k != "algo");
    f[1].1 = f[1].1.to_uppercase();
    let r = s.post("host-info", &f);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn unsupported_algo_is_a_fatal_400_listing_the_supported() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let mut f = sign_params(&creds, now_unix(), "n1");
    f[4].1 = "md5".into();
    let r = s.post("host-info", &f);
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(
        r.body,
        "400 Bad request (algorithm not supported, Supported Algos: sha1 - sha256 - sha512)"
    );
}

#[test]
fn missing_credentials_are_named() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    for missing in ["api_key", "access_key", "timestamp", "nonce"] {
        let mut f = sign_params(&creds, now_unix(), &format!("m-{missing}"));
        f.retain(|(k, _)| k != missing);
        let r = s.post("host-info", &f);
        assert_eq!(r.status, 400, "{missing}");
        assert!(
            r.body.contains(&format!("missing parameter '{missing}'")),
            "{}",
            r.body
        );
    }
}

#[test]
fn consumer_key_is_an_alias_of_api_key() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let mut f = sign_params(&creds, now_unix(), "alias");
    f[0].0 = "consumer_key".into();
    let r = s.post("host-info", &f);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn timestamp_formats_of_real_clients_are_accepted() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let now = Timestamp::from_unix(now_unix()).format(); // "Thu, 26 Jul 2012 14:53:44 UTC"
    let gmt = now.replace("UTC", "GMT");
    let plus = now.replace("UTC", "+0000");
    let mut variants = vec![now.clone(), gmt, plus];
    // one-digit day, when today has one
    let parts: Vec<&str> = now.split(' ').collect();
    if parts[1].starts_with('0') {
        variants.push(now.replacen(
            &format!(" {} ", parts[1]),
            &format!(" {} ", &parts[1][1..]),
            1,
        ));
    }
    for (i, ts) in variants.iter().enumerate() {
        let f = form(&creds, ts, &format!("fmt{i}"), Algo::Sha1);
        let r = s.post("host-info", &f);
        assert_eq!(r.status, 200, "{ts}: {}", r.body);
    }
    let f = form(&creds, "2012-07-26T14:53:44Z", "iso", Algo::Sha1);
    let r = s.post("host-info", &f);
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("Thu, 26 Jul 2012 14:53:44 UTC"),
        "{}",
        r.body
    );
}

#[test]
fn stale_and_future_timestamps_are_distinct_and_state_the_server_time() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let old = Timestamp::from_unix(now_unix() - 400).format();
    let r = s.post("host-info", &form(&creds, &old, "old", Algo::Sha1));
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("timestamp too old, server time is "),
        "{}",
        r.body
    );
    let future = Timestamp::from_unix(now_unix() + 400).format();
    let r = s.post("host-info", &form(&creds, &future, "new", Algo::Sha1));
    assert_eq!(r.status, 403);
    assert!(
        r.body
            .contains("timestamp too far in the future, server time is "),
        "{}",
        r.body
    );
    // the stated time is a valid protocol timestamp close to ours
    let stated = r
        .body
        .split("server time is ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')');
    let t = Timestamp::parse(stated).expect("server time parses");
    assert!((t.unix() - now_unix()).abs() < 5);
    // inside the window (just under 5 minutes) is fine
    let edge = Timestamp::from_unix(now_unix() - 290).format();
    let r = s.post("host-info", &form(&creds, &edge, "edge", Algo::Sha1));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn unknown_key_wrong_signature_and_revoked_key_are_403_with_own_messages() {
    let s = Server::start();
    let mut creds = s.demo.clone().unwrap();
    creds.api_secret = "wrong".into();
    let r = Client::new(&s.base, creds.clone())
        .call(None, "host-info", &[])
        .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "403 Forbidden (invalid access key)");
    creds.api_key = "f".repeat(64);
    let r = Client::new(&s.base, creds)
        .call(None, "host-info", &[])
        .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "403 Forbidden (invalid api key)");

    let key = s.create_key("to revoke");
    let c = Client::new(&s.base, key.clone());
    assert_eq!(c.call(None, "host-info", &[]).unwrap().status, 200);
    let out = s.cli(&["keys", "revoke", &key.api_key]);
    assert!(out.status.success());
    let r = c.call(None, "host-info", &[]).unwrap();
    assert_eq!(r.status, 403);
    assert!(r.body.contains("revoked"), "{}", r.body);
}

#[test]
fn debug_mode_shows_the_signed_string_never_the_secret() {
    let s = Server::start();
    let key = s.create_key("debug app");
    let mut wrong = key.clone();
    wrong.api_secret = "not-the-secret".into();
    let r = Client::new(&s.base, wrong.clone())
        .call(None, "host-info", &[])
        .unwrap();
    assert!(
        !r.body.contains("signed"),
        "debug is off by default: {}",
        r.body
    );
    assert!(s
        .cli(&["keys", "set", &key.api_key, "--debug", "on"])
        .status
        .success());
    let r = Client::new(&s.base, wrong)
        .call(None, "host-info", &[])
        .unwrap();
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains(&format!("UTC{}", key.api_key)),
        "{}",
        r.body
    );
    assert!(r.body.contains("with sha1"), "{}", r.body);
    assert!(!r.body.contains(&key.api_secret));
}

#[test]
fn a_replayed_request_is_refused_and_a_constant_nonce_with_fresh_timestamps_is_not() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let now = now_unix();
    let f = sign_params(&creds, now, "same");
    assert_eq!(s.post("host-info", &f).status, 200);
    let r = s.post("host-info", &f);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("replayed"), "{}", r.body);
    // the same nonce with another timestamp is a new request
    let f2 = sign_params(&creds, now - 1, "same");
    assert_eq!(s.post("host-info", &f2).status, 200);
}

#[test]
fn concurrent_duplicates_let_exactly_one_through() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let url = format!("{}/host-info", s.base);
    let f = Arc::new(sign_params(&creds, now_unix(), "race"));
    let n = 16;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (f, b, url, client) = (f.clone(), barrier.clone(), url.clone(), s.client());
            std::thread::spawn(move || {
                b.wait();
                client.post_form(&url, &f).unwrap().status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 403).count(),
        n - 1,
        "{statuses:?}"
    );
}

#[test]
fn replays_are_refused_after_a_restart() {
    let mut s = Server::start();
    let creds = s.demo.clone().unwrap();
    let f = sign_params(&creds, now_unix(), "durable");
    assert_eq!(s.post("host-info", &f).status, 200);
    s.kill_now();
    let s2 = Server::start_in(&s.dir, "");
    assert!(s2.demo.is_none(), "the demo is printed only at first start");
    let r = Client::new(&s2.base, creds)
        .post_form(&format!("{}/host-info", s2.base), &f)
        .unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("replayed"));
}

#[test]
fn lenient_replay_policy_allows_a_reused_triple_only_for_different_requests() {
    let s = Server::start();
    let key = s.create_key("legacy");
    assert!(s
        .cli(&["keys", "set", &key.api_key, "--replay", "lenient"])
        .status
        .success());
    let url = format!("{}/get-method-info", s.base);
    let c = Client::new(&s.base, key.clone());
    let with = same_triple(&key);
    assert_eq!(c.post_form(&url, &with("host-info")).unwrap().status, 200);
    assert_eq!(
        c.post_form(&url, &with("get-method-list")).unwrap().status,
        200
    );
    assert_eq!(c.post_form(&url, &with("host-info")).unwrap().status, 403);
}

#[test]
fn nonce_limits() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let ts = Timestamp::from_unix(now_unix()).format();
    let body =
        serde_urlencoded::to_string(form(&creds, &ts, &"n".repeat(129), Algo::Sha1)).unwrap();
    let r = raw_post(
        &s.addr,
        "/host-info",
        "",
        "application/x-www-form-urlencoded",
        &body,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("nonce"), "{}", r.body);
    let spaced = form(&creds, &ts, "a nonce with spaces", Algo::Sha1);
    assert_eq!(s.post("host-info", &spaced).status, 200);
}
