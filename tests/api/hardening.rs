//! Holes an outside attack run found, each closed and pinned over real
//! HTTP: idempotency records scoped to the account a call acts for (OAuth
//! too) and fingerprinting raw PUT bodies; OAuth failures throttled and
//! counted like form failures, unknown tokens indistinguishable from wrong
//! token secrets; the download-link key sealed at rest.

use std::time::{Duration, Instant};

use panthera::client::{random_nonce, sign_user_params, Client, Credentials, Reply, UserToken};
use panthera::protocol::oauth1::{self, OAuthHeader};
use panthera::protocol::signature::Algo;
use panthera::store::now_unix;
use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::{metric, Server};

const TOKEN_SECRET: &str = "hardening secret";
const PASSWORD: &str = "Correct-Horse-42";

fn json(r: &Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

fn cli_ok(s: &Server, args: &[&str]) -> String {
    let out = s.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn create_user(s: &Server, name: &str) {
    let email = format!("{name}@example.com");
    cli_ok(
        s,
        &[
            "users",
            "create",
            "--username",
            name,
            "--email",
            &email,
            "--password",
            PASSWORD,
        ],
    );
}

/// A token of the demo app approved by `user` on the real authorization page.
fn approved_token(s: &Server, user: &str, password: &str) -> UserToken {
    let r = s
        .tls_client()
        .call(
            None,
            "request-token",
            &[
                ("token_secret", TOKEN_SECRET),
                ("app_name", "Hardening"),
                ("content_type", "application/json"),
            ],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    let mut browser = Browser::new(&s.cert_pem());
    let auth_url = v["auth_url"].as_str().unwrap();
    let done = crate::tokens::decide(&mut browser, auth_url, user, password, "allow");
    assert_eq!(done.status, 200, "{}", done.body);
    UserToken {
        auth_token: v["token"].as_str().unwrap().to_string(),
        token_secret: TOKEN_SECRET.into(),
    }
}

/// A call signed with the OAuth 1.0 header (protocol.md §5), the token's
/// secret (or `token_secret` for a made-up token) half of the signing key.
fn oauth_call(
    s: &Server,
    creds: &Credentials,
    token: Option<(&str, &str)>,
    method: &str,
    params: &[(&str, &str)],
) -> Reply {
    let url = format!("{}/{method}", s.base);
    let mut header = vec![
        ("oauth_consumer_key".to_string(), creds.api_key.clone()),
        ("oauth_nonce".to_string(), random_nonce()),
        (
            "oauth_signature_method".to_string(),
            "HMAC-SHA1".to_string(),
        ),
        ("oauth_timestamp".to_string(), now_unix().to_string()),
        ("oauth_version".to_string(), "1.0".to_string()),
    ];
    if let Some((t, _)) = token {
        header.push(("oauth_token".to_string(), t.to_string()));
    }
    let body = serde_urlencoded::to_string(params).unwrap();
    let signed = oauth1::signed_params(
        "",
        Some(&body),
        &OAuthHeader {
            params: header.clone(),
        },
    );
    let base = oauth1::base_string("POST", &url, &signed);
    let key = oauth1::signing_key(
        &creds.api_secret,
        token.map_or(&b""[..], |(_, secret)| secret.as_bytes()),
    );
    header.push((
        "oauth_signature".to_string(),
        oauth1::signature(Algo::Sha1, &key, &base),
    ));
    let r = ureq::post(&url)
        .set("User-Agent", "hardening-test")
        .set("Authorization", &oauth1::format_header(&header))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&body);
    reply(r)
}

fn reply(r: Result<ureq::Response, ureq::Error>) -> Reply {
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    Reply {
        status: r.status(),
        headers: Vec::new(),
        body: r.into_string().unwrap(),
    }
}

/// A form-signed user call (protocol.md §4).
fn user_call(s: &Server, token: &UserToken, method: &str, params: &[(&str, &str)]) -> Reply {
    let creds = s.demo.clone().unwrap();
    let mut form = sign_user_params(&creds, token, now_unix(), &random_nonce());
    form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Client::new(&s.base, creds)
        .post_form(&format!("{}/{method}", s.base), &form)
        .unwrap()
}

fn deposit_remaining(s: &Server, token: &UserToken) -> String {
    let r = user_call(
        s,
        token,
        "get-media-info",
        &[
            ("id_media", "2"),
            ("show_articles", "yes"),
            ("content_type", "application/json"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    let found = v["articles"]["singlebuy_list"]["singlebuy"]["deposit-remaining"].clone();
    found.as_str().unwrap_or_default().to_string()
}

#[test]
fn an_idempotency_key_never_answers_another_users_call() {
    let s = Server::start_tls_with("");
    let demo = s.demo.clone().unwrap();
    let (demo_user, demo_pw) = s.demo_user.clone().unwrap();
    create_user(&s, "bob");
    cli_ok(&s, &["media", "credit", "bob", "100"]);
    let alice = approved_token(&s, &demo_user, &demo_pw);
    let bob = approved_token(&s, "bob", PASSWORD);
    let buy = [
        ("id_media", "1"),
        ("id_article", "1"),
        ("idempotency_key", "order-1"),
        ("content_type", "application/json"),
    ];
    let a = user_call(&s, &alice, "download-media", &buy);
    assert_eq!(a.status, 200, "{}", a.body);
    let a_id = json(&a)["download_infos"]["id_download"].clone();
    assert!(a_id.is_string(), "{}", a.body);

    // Bob, signing with OAuth, sends the same key: his own purchase.
    let bob_before = deposit_remaining(&s, &bob);
    let b = oauth_call(
        &s,
        &demo,
        Some((&bob.auth_token, TOKEN_SECRET)),
        "download-media",
        &buy,
    );
    assert_eq!(b.status, 200, "{}", b.body);
    let b_id = json(&b)["download_infos"]["id_download"].clone();
    assert_ne!(a_id, b_id, "Bob got Alice's order: {}", b.body);
    assert_eq!(bob_before, "100");
    assert_ne!(deposit_remaining(&s, &bob), bob_before, "Bob paid for his");

    // Each retry still answers its own first call, whatever the scheme.
    let again = oauth_call(
        &s,
        &demo,
        Some((&bob.auth_token, TOKEN_SECRET)),
        "download-media",
        &buy,
    );
    assert_eq!(json(&again)["download_infos"]["id_download"], b_id);
    let again = user_call(&s, &bob, "download-media", &buy);
    assert_eq!(json(&again)["download_infos"]["id_download"], b_id);
    let again = user_call(&s, &alice, "download-media", &buy);
    assert_eq!(json(&again)["download_infos"]["id_download"], a_id);
}

/// A PUT with signed user credentials in the query and `body` as its body.
fn put(s: &Server, token: &UserToken, body: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let mut form = sign_user_params(&s.demo.clone().unwrap(), token, now_unix(), &random_nonce());
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let query = serde_urlencoded::to_string(&form).unwrap();
    let r = reply(
        ureq::put(&format!("{}/set-user-media-metadata?{query}", s.base))
            .set("User-Agent", "hardening-test")
            .set("Content-Type", "application/json")
            .send_string(body),
    );
    (r.status, r.body)
}

#[test]
fn a_put_body_is_part_of_the_idempotency_fingerprint() {
    let s = Server::start_tls_with("");
    let (user, pw) = s.demo_user.clone().unwrap();
    let token = approved_token(&s, &user, &pw);
    let key = [
        ("idempotency_key", "meta-1"),
        ("content_type", "application/json"),
    ];
    let first = r#"{"id_media": 306, "title": "First title"}"#;
    let (st, body) = put(&s, &token, first, &key);
    assert_eq!(st, 200, "{body}");
    let (st, again) = put(&s, &token, first, &key);
    assert_eq!((st, &again), (200, &body), "the same body is a retry");
    let other = r#"{"id_media": 305, "title": "Second title"}"#;
    let (st, body) = put(&s, &token, other, &key);
    assert_eq!(st, 422, "another body under the same key: {body}");
    assert!(body.contains("idempotency_key"), "{body}");
    // and it changed nothing: item 305 keeps its title
    let (st, body) = put(&s, &token, r#"{"id_media": 305}"#, &[]);
    assert_eq!(st, 200, "{body}");
    assert!(!body.contains("Second title"), "{body}");
}

#[test]
fn oauth_failures_are_counted_and_throttled_like_form_failures() {
    let s = Server::start_with(
        "[rate_limits.failed_auth_per_address]\nburst = 3\nper_second = 0.01\n\
         [rate_limits.failed_auth_per_key]\nburst = 1000\nper_second = 1.0\n",
    );
    let creds = s.demo.clone().unwrap();
    let wrong = Credentials {
        api_secret: "not the secret".into(),
        ..creds.clone()
    };
    let bad_signature = "panthera_auth_failures_total{reason=\"bad_signature\"}";
    for _ in 0..3 {
        let r = oauth_call(&s, &wrong, None, "host-info", &[]);
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("invalid oauth_signature"), "{}", r.body);
    }
    assert_eq!(metric(&s, bad_signature), 3.0);
    // the address is throttled now: even a right signature waits
    let r = oauth_call(&s, &creds, None, "host-info", &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.body.contains("too many failed authentications"),
        "{}",
        r.body
    );
}

#[test]
fn oauth_failures_count_against_the_key_named_in_the_header() {
    let s = Server::start_with(
        "[rate_limits.failed_auth_per_key]\nburst = 2\nper_second = 0.01\n\
         [rate_limits.failed_auth_per_address]\nburst = 1000\nper_second = 1.0\n",
    );
    let creds = s.demo.clone().unwrap();
    let wrong = Credentials {
        api_secret: "not the secret".into(),
        ..creds.clone()
    };
    for _ in 0..2 {
        assert_eq!(oauth_call(&s, &wrong, None, "host-info", &[]).status, 403);
    }
    let r = oauth_call(&s, &creds, None, "host-info", &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    // the form scheme names the same key: throttled too
    let r = s.client().call(None, "host-info", &[]).unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
}

#[test]
fn an_unknown_oauth_token_looks_like_a_wrong_token_secret() {
    let s = Server::start_tls_with("");
    let creds = s.demo.clone().unwrap();
    let public_only = Credentials {
        api_secret: "guessed".into(),
        ..creds.clone()
    };
    let (user, pw) = s.demo_user.clone().unwrap();
    let real = approved_token(&s, &user, &pw);
    let made_up = "0123456789abcdef0123456789abcdef";
    // with only the public api key, a real and a made-up token answer alike
    let known = oauth_call(
        &s,
        &public_only,
        Some((&real.auth_token, "x")),
        "get-user-profile",
        &[],
    );
    let unknown = oauth_call(
        &s,
        &public_only,
        Some((made_up, "x")),
        "get-user-profile",
        &[],
    );
    assert_eq!(known.status, 403, "{}", known.body);
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    assert!(
        known.body.contains("invalid oauth_signature"),
        "{}",
        known.body
    );
    // the app itself (it holds the consumer secret) still learns the state
    let unknown = oauth_call(&s, &creds, Some((made_up, "x")), "get-user-profile", &[]);
    assert_eq!(unknown.status, 403, "{}", unknown.body);
    assert!(
        unknown.body.contains("invalid oauth_signature"),
        "the dummy secret is not guessable: {}",
        unknown.body
    );
    let ok = oauth_call(
        &s,
        &creds,
        Some((&real.auth_token, TOKEN_SECRET)),
        "get-user-profile",
        &[],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
}

fn stored_url_key(s: &Server) -> Option<String> {
    let c = rusqlite::Connection::open(s.dir.join("panthera.db")).unwrap();
    c.query_row(
        "SELECT value FROM meta WHERE key = 'media_url_key'",
        [],
        |r| r.get(0),
    )
    .ok()
}

/// Buys item 1 with the demo key (its owner pays) and waits until the order
/// is ready: (order id, signed link).
fn bought_and_ready(s: &Server) -> (i64, String) {
    let c = s.client();
    let call = |extra: &[(&str, &str)]| {
        let mut p = vec![
            ("id_media", "1"),
            ("id_article", "1"),
            ("content_type", "application/json"),
        ];
        p.extend_from_slice(extra);
        let r = c.call(None, "download-media", &p).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        json(&r)
    };
    let v = call(&[]);
    let hash = v["download_status"]["queue_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let id = v["download_infos"]["id_download"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let v = call(&[("queue_hash", &hash)]);
        if v["download_status"]["status"] == "ready" {
            let url = v["download_status"]["download_url"].as_str().unwrap();
            return (id, url.to_string());
        }
        assert!(Instant::now() < until, "never ready: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn fetch(url: &str) -> u16 {
    match ureq::get(url).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_download_link_key_is_sealed_resealed_and_checked() {
    if crate::helpers::on_postgres() {
        return; // it reads the SQLite file itself
    }
    const FAST: &str = "[media]\nworker_interval_ms = 100\n";
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(tmp.path(), FAST);
    let (id, url) = bought_and_ready(&s);
    let stored = stored_url_key(&s).expect("the key was made");
    assert!(stored.starts_with("v1."), "sealed at rest: {stored}");
    assert_eq!(fetch(&url), 200);

    // rotate-master reseals it: the link made before still serves
    let report = cli_ok(&s, &["keys", "rotate-master"]);
    assert!(report.contains("server secrets"), "{report}");
    assert_ne!(stored_url_key(&s).unwrap(), stored, "resealed");
    assert_eq!(fetch(&url), 200);
    let check = cli_ok(&s, &["check"]);
    assert!(check.contains("server secrets, all sealed"), "{check}");

    // a store of an older release (the key in clear) gets it sealed at
    // start, and links signed with that key stay valid
    s.kill_now();
    let clear = "11".repeat(32);
    {
        let c = rusqlite::Connection::open(tmp.path().join("panthera.db")).unwrap();
        c.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'media_url_key'",
            [&clear],
        )
        .unwrap();
    }
    let out = s.cli(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("media_url_key is stored unsealed"), "{text}");
    let s = Server::start_in(tmp.path(), FAST);
    let stored = stored_url_key(&s).unwrap();
    assert!(
        stored.starts_with("v1.") && !stored.contains(&clear),
        "{stored}"
    );
    let clear_key = hex::decode(&clear).unwrap();
    let path = panthera::media::files::download_path(&clear_key, id, now_unix() + 600);
    assert_eq!(fetch(&format!("{}{path}", s.base)), 200);
    cli_ok(&s, &["check"]);
}

fn rendered_files(s: &Server) -> usize {
    std::fs::read_dir(s.dir.join("renders"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".jpg"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn download_image_takes_purchased_files_from_the_render_cache() {
    let s = Server::start();
    let c = s.client();
    let fetch = || {
        let r = c
            .call(
                None,
                "download-image",
                &[
                    ("id_media", "1"),
                    ("id_article", "1"),
                    ("metadata", "none"),
                    ("content_type", "application/octet-stream"),
                ],
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    };
    assert_eq!(rendered_files(&s), 0);
    fetch();
    assert_eq!(rendered_files(&s), 1, "rendered once, into the cache");
    for _ in 0..3 {
        fetch();
    }
    assert_eq!(
        rendered_files(&s),
        1,
        "free re-downloads render nothing new"
    );
}
