//! User tokens over real HTTP(S) (protocol.md §4, methods.md §B): request-token
//! over TLS, the authorization page driven like a browser, signed user calls,
//! token life with a shifted server clock, and the account page.

use panthera::client::{random_nonce, sign_user_params, Client, Credentials, Reply, UserToken};
use panthera::protocol::timestamp::Timestamp;
use panthera::store::now_unix;

use crate::browser::{Browser, Page};
use crate::helpers::{raw_post, Server};

pub const SECRET: &str = "MySecret";

fn json(r: &Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// A pending token of the demo app: (token, auth_url).
fn request_token(s: &Server, app: &str, extra: &[(&str, &str)]) -> (String, String) {
    let mut p = vec![
        ("token_secret", SECRET),
        ("app_name", app),
        ("content_type", "application/json"),
    ];
    p.extend_from_slice(extra);
    let r = s.tls_client().call(None, "request-token", &p).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    (
        v["token"].as_str().unwrap().to_string(),
        v["auth_url"].as_str().unwrap().to_string(),
    )
}

/// A user call signed with `token` (over plain HTTP), at the server's shifted time.
fn user_call_as(
    s: &Server,
    creds: &Credentials,
    token: &str,
    method: &str,
    params: &[(&str, &str)],
    offset: i64,
) -> Reply {
    let user = UserToken {
        auth_token: token.into(),
        token_secret: SECRET.into(),
    };
    let mut form = sign_user_params(creds, &user, now_unix() + offset, &random_nonce());
    form.push(("content_type".into(), "application/json".into()));
    form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Client::new(&s.base, creds.clone())
        .post_form(&format!("{}/{method}", s.base), &form)
        .unwrap()
}

fn user_call(s: &Server, token: &str, method: &str, offset: i64) -> Reply {
    user_call_as(s, s.demo.as_ref().unwrap(), token, method, &[], offset)
}

fn demo_password(s: &Server) -> String {
    s.demo_user.clone().unwrap().1
}

/// Signs in on the authorization page and presses `decision`.
pub fn decide(browser: &mut Browser, auth_url: &str, user: &str, pw: &str, decision: &str) -> Page {
    let form = browser.get(auth_url);
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.hidden("csrf");
    browser.post(
        auth_url,
        &[
            ("csrf", &csrf),
            ("username", user),
            ("password", pw),
            ("decision", decision),
        ],
    )
}

/// An authorized token of the demo user (approved on the real page).
pub fn authorized_token(s: &Server, browser: &mut Browser, app: &str) -> String {
    let (token, url) = request_token(s, app, &[]);
    let done = decide(browser, &url, "demo", &demo_password(s), "allow");
    assert_eq!(done.status, 200, "{}", done.body);
    token
}

fn error_message(r: &Reply) -> String {
    json(r)["err"]["msg"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_whole_flow_over_https_with_a_browser() {
    let s = Server::start_tls_with("");
    // request-token needs TLS
    let plain = s
        .client()
        .call(
            None,
            "request-token",
            &[("token_secret", SECRET), ("app_name", "x")],
        )
        .unwrap();
    assert_eq!(plain.status, 403);
    assert_eq!(plain.body, "403 Forbidden (SSL is required)");

    let (token, auth_url) = request_token(
        &s,
        "My Photo App",
        &[("app_callback", "https://app.example/cb?x=1")],
    );
    let tls_base = s.tls_base.clone().unwrap();
    assert_eq!(auth_url, format!("{tls_base}/auth/{token}"));
    assert_eq!(token.len(), 40);

    let r = user_call(&s, &token, "get-user-profile", 0);
    assert_eq!(r.status, 401);
    assert!(
        error_message(&r).contains("not authorized yet"),
        "{}",
        r.body
    );

    let mut browser = Browser::new(&s.cert_pem());
    let page = browser.get(&auth_url);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page
        .body
        .contains("My Photo App wants to use your Panthera account"));
    assert!(page.body.contains("<label for=\"username\">"));
    assert!(page.body.contains("<label for=\"password\">"));
    assert!(
        page.body.contains("registered as “demo app”"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script"));
    assert!(page.header("content-security-policy").is_some());
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csrf = page.hidden("csrf");
    assert!(browser.cookie("__Host-panthera_csrf").is_some());

    // a forged form (wrong CSRF token) changes nothing
    let forged = browser.post(
        &auth_url,
        &[
            ("csrf", "0000"),
            ("username", "demo"),
            ("password", &demo_password(&s)),
            ("decision", "allow"),
        ],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    // a wrong password shows the form again
    let wrong = browser.post(
        &auth_url,
        &[
            ("csrf", &csrf),
            ("username", "demo"),
            ("password", "not it"),
            ("decision", "allow"),
        ],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong username or password."));
    assert!(wrong.body.contains("role=\"alert\""));

    let done = browser.post(
        &auth_url,
        &[
            ("csrf", &csrf),
            ("username", "demo"),
            ("password", &demo_password(&s)),
            ("decision", "allow"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some(format!("https://app.example/cb?x=1&token={token}&status=authorized").as_str())
    );
    assert!(browser.cookie("__Host-panthera_session").is_some());
    // the page cannot be used twice
    assert_eq!(browser.get(&auth_url).status, 410);

    // signed user calls now work, over HTTP and HTTPS
    let r = user_call(&s, &token, "get-user-profile", 0);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    assert_eq!(v["user"]["username"], "demo");
    assert_eq!(v["user"]["email"], "demo@example.com");
    assert_eq!(v["user"]["status"], "active");
    assert!(v["user"]["id"].as_str().unwrap().starts_with("usr_"));
    Timestamp::parse(v["user"]["token_valid_until"].as_str().unwrap()).unwrap();
    let r = s
        .tls_client()
        .with_token(UserToken {
            auth_token: token.clone(),
            token_secret: SECRET.into(),
        })
        .call(None, "get-user-deposit", &[])
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(
            "<deposits total=\"1\"><deposit type=\"credits\" name=\"Credits\" \
             deposit-remaining=\"1000\" deposit-remaining-percent=\"100\" \
             deposit-total=\"1000\" currency=\"credits\" valid-until=\"unlimited\" \
             term=\"unlimited\"/>"
        ),
        "{}",
        r.body
    );

    // a second app is denied (no password needed to say no); this browser
    // is signed in since the Allow above, so it goes on to the callback
    let (denied, url2) = request_token(
        &s,
        "Unwanted App",
        &[("app_callback", "https://other.example/back")],
    );
    let form = browser.get(&url2);
    let out = browser.post(
        &url2,
        &[("csrf", &form.hidden("csrf")), ("decision", "deny")],
    );
    assert_eq!(out.status, 303);
    assert_eq!(
        out.header("location"),
        Some(format!("https://other.example/back?token={denied}&status=denied").as_str())
    );
    let r = user_call(&s, &denied, "get-user-profile", 0);
    assert_eq!(r.status, 401);
    assert!(error_message(&r).contains("denied"), "{}", r.body);

    // the user sees the allowed app and revokes it
    let apps = browser.get(&format!("{tls_base}/account/apps"));
    assert_eq!(apps.status, 200);
    assert!(apps.body.contains("My Photo App"), "{}", apps.body);
    assert!(!apps.body.contains("Unwanted App"));
    let revoked = browser.post(
        &format!("{tls_base}/account/apps/revoke"),
        &[("csrf", &apps.hidden("csrf")), ("token", &token)],
    );
    assert_eq!(revoked.status, 303);
    let after = browser.get(&format!(
        "{tls_base}{}",
        revoked.header("location").unwrap()
    ));
    assert!(after.body.contains("Access revoked."));
    assert!(after.body.contains("No app has access"));
    let r = user_call(&s, &token, "get-user-profile", 0);
    assert_eq!(r.status, 401);
    assert!(error_message(&r).contains("revoked"), "{}", r.body);

    // neither the token secret nor the password reach the log
    let log = s.log();
    assert!(log.contains("/auth/"), "page requests are logged");
    assert!(!log.contains(SECRET));
    assert!(!log.contains(&demo_password(&s)));
    // and the secret is not stored in the clear
    let db = std::fs::read(s.dir.join("panthera.db")).unwrap_or_default();
    let wal = std::fs::read(s.dir.join("panthera.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    }
}

#[test]
fn without_a_callback_the_user_is_asked_to_close_the_window_in_their_language() {
    let s = Server::start_tls_with("");
    let (token, url) = request_token(&s, "Desktop App", &[("lang", "de")]);
    let mut browser = Browser::new(&s.cert_pem());
    let page = browser.get(&url);
    assert!(page.body.contains("<html lang=\"de\">"), "{}", page.body);
    assert!(page
        .body
        .contains("Desktop App möchte Ihr Panthera-Konto verwenden"));
    assert!(page.body.contains(">Erlauben</button>"));
    assert!(browser
        .get(&format!("{url}?lang=en"))
        .body
        .contains(">Allow</button>"));
    let done = decide(&mut browser, &url, "demo", &demo_password(&s), "allow");
    assert_eq!(done.status, 200);
    assert!(
        done.body.contains("Bitte schließen Sie dieses Fenster"),
        "{}",
        done.body
    );
    // the README's command line: a user call, and request-token trusting the certificate
    let out = s.cli(&[
        "call",
        "get-user-profile",
        "--url",
        &s.base,
        "--token",
        &token,
        "--token-secret",
        SECRET,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("<username>demo</username>"), "{stdout}");
    let cert = s.dir.join("tls").join("cert.pem");
    let out = s.cli(&[
        "call",
        "request-token",
        "token_secret=x",
        "app_name=CLI",
        "--url",
        s.tls_base.as_deref().unwrap(),
        "--cacert",
        cert.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("<auth_url>https://127.0.0.1:"), "{stdout}");
}

#[test]
fn token_failures_are_distinct_401s() {
    let s = Server::start_tls_with("");
    let mut browser = Browser::new(&s.cert_pem());
    let token = authorized_token(&s, &mut browser, "App");
    let demo = s.demo.clone().unwrap();
    let mut messages = std::collections::BTreeSet::new();
    let mut expect_401 = |r: Reply, contains: &str| {
        assert_eq!(r.status, 401, "{}", r.body);
        let msg = error_message(&r);
        assert!(msg.contains(contains), "{msg}");
        messages.insert(msg);
    };
    // missing: a method that requires a user, called without a token
    expect_401(
        s.client()
            .call(
                None,
                "get-user-profile",
                &[("content_type", "application/json")],
            )
            .unwrap(),
        "user authentication required",
    );
    expect_401(
        user_call(&s, &"0".repeat(40), "get-user-profile", 0),
        "unknown auth_token",
    );
    let mut wrong = sign_user_params(
        &demo,
        &UserToken {
            auth_token: token.clone(),
            token_secret: "not the secret".into(),
        },
        now_unix(),
        &random_nonce(),
    );
    wrong.push(("content_type".into(), "application/json".into()));
    expect_401(
        s.client()
            .post_form(&format!("{}/get-user-profile", s.base), &wrong)
            .unwrap(),
        "invalid access_token",
    );
    // a token belongs to the key that requested it
    let other_key = s.create_key("other app");
    expect_401(
        user_call_as(&s, &other_key, &token, "get-user-profile", &[], 0),
        "unknown auth_token",
    );
    assert_eq!(messages.len(), 3, "{messages:?}");
    // methods that need no user ignore a token; app errors stay fatal 403s
    assert_eq!(user_call(&s, &"0".repeat(40), "host-info", 0).status, 200);
}

#[test]
fn tokens_expire_and_are_extended_on_the_servers_clock() {
    let s = Server::start_tls_with("");
    let mut browser = Browser::new(&s.cert_pem());
    let (pending, pending_url) = request_token(&s, "Slow App", &[]);
    let token = authorized_token(&s, &mut browser, "App");
    let approved_at = now_unix();

    // fresh after approval: 10 minutes; the first use extends it by 60
    let r = user_call(&s, &token, "get-user-profile", 0);
    let until = Timestamp::parse(json(&r)["user"]["token_valid_until"].as_str().unwrap())
        .unwrap()
        .unix();
    assert!(
        (until - (approved_at + 600 + 3600)).abs() <= 3,
        "{until} vs {approved_at}"
    );
    // with more than 30 minutes left, using it changes nothing
    let r = user_call(&s, &token, "get-user-profile", 0);
    let again = json(&r)["user"]["token_valid_until"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(Timestamp::parse(&again).unwrap().unix(), until);

    // 11 minutes later the pending token has expired, page and API agree
    s.shift_clock(11 * 60);
    assert_eq!(browser.get(&pending_url).status, 410);
    let r = user_call(&s, &pending, "get-user-profile", 11 * 60);
    assert_eq!(r.status, 401);
    assert!(error_message(&r).contains("expired"), "{}", r.body);

    // 50 minutes on, less than 30 are left: extended again
    s.shift_clock(50 * 60);
    let r = user_call(&s, &token, "get-user-profile", 50 * 60);
    assert_eq!(r.status, 200, "{}", r.body);
    let extended = Timestamp::parse(json(&r)["user"]["token_valid_until"].as_str().unwrap())
        .unwrap()
        .unix();
    assert_eq!(extended, until + 3600);

    // token-valid-until: at most 90 days ahead
    let now = now_unix() + 50 * 60;
    let too_far = Timestamp::from_unix(now + 91 * 86_400).format();
    let r = user_call_as(
        &s,
        s.demo.as_ref().unwrap(),
        &token,
        "token-valid-until",
        &[("valid_until", &too_far)],
        50 * 60,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(error_message(&r).contains("90 days"), "{}", r.body);
    let wanted = Timestamp::from_unix(now + 30 * 86_400).format();
    let r = user_call_as(
        &s,
        s.demo.as_ref().unwrap(),
        &token,
        "token-valid-until",
        &[("valid_until", &wanted)],
        50 * 60,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r)["valid_until"], wanted.as_str());
    assert_eq!(json(&r)["token"], token.as_str());

    // 29 days on it still works, 31 days on it has expired
    s.shift_clock(29 * 86_400);
    assert_eq!(
        user_call(&s, &token, "get-user-profile", 29 * 86_400).status,
        200
    );
    s.shift_clock(31 * 86_400);
    let r = user_call(&s, &token, "get-user-profile", 31 * 86_400);
    assert_eq!(r.status, 401);
    assert!(error_message(&r).contains("expired"), "{}", r.body);
}

#[test]
fn a_token_reaches_only_its_own_users_data() {
    if crate::helpers::on_postgres() {
        return; // it writes its second user straight into the SQLite store
    }
    let s = Server::start_tls_with("");
    // a second user with a deposit of their own, straight into the store
    let store = panthera::store::Store::open_in(&s.dir).unwrap();
    let bob = store
        .transaction(|tx| {
            let u = tx.users().create(&panthera::store::users::NewUser {
                username: "bob",
                email: "bob@example.com",
                password: "bobs password",
                status: "active",
                ..Default::default()
            })?;
            tx.balances().credit(&u.id, 500, now_unix())?;
            Ok::<_, panthera::store::StoreError>(u)
        })
        .unwrap();
    let mut browser = Browser::new(&s.cert_pem());
    let demo_token = authorized_token(&s, &mut browser, "App");
    let (bob_token, url) = request_token(&s, "App", &[]);
    let mut bobs_browser = Browser::new(&s.cert_pem());
    assert_eq!(
        decide(&mut bobs_browser, &url, "bob", "bobs password", "allow").status,
        200
    );

    let deposit = |token: Option<&str>| {
        let r = match token {
            Some(t) => user_call(&s, t, "get-user-deposit", 0),
            None => s
                .client()
                .call(
                    None,
                    "get-user-deposit",
                    &[("content_type", "application/json")],
                )
                .unwrap(),
        };
        assert_eq!(r.status, 200, "{}", r.body);
        json(&r)["deposits"]["deposit"]["deposit-remaining"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(deposit(Some(&bob_token)), "500");
    assert_eq!(deposit(Some(&demo_token)), "1000");
    // without a token: the account owning the api key (the demo user)
    assert_eq!(deposit(None), "1000");
    let r = user_call(&s, &bob_token, "get-user-profile", 0);
    assert_eq!(json(&r)["user"]["id"], bob.id.as_str());
    // bob's account page does not list the demo user's app
    let apps = bobs_browser.get(&format!("{}/account/apps", s.tls_base.as_ref().unwrap()));
    assert!(apps.body.contains("Signed in as bob"));
    assert_eq!(apps.body.matches("name=\"token\"").count(), 1);
    assert!(apps.body.contains(&bob_token) && !apps.body.contains(&demo_token));
    // and cannot revoke the demo user's token
    let r = bobs_browser.post(
        &format!("{}/account/apps/revoke", s.tls_base.as_ref().unwrap()),
        &[("csrf", &apps.hidden("csrf")), ("token", &demo_token)],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        user_call(&s, &demo_token, "get-user-profile", 0).status,
        200
    );
}

#[test]
fn repeated_wrong_passwords_are_throttled_with_retry_after() {
    let s = Server::start_tls_with("");
    let (_, url) = request_token(&s, "App", &[]);
    let mut browser = Browser::new(&s.cert_pem());
    for i in 0..5 {
        let r = decide(&mut browser, &url, "demo", "guess", "allow");
        assert_eq!(r.status, 401, "attempt {i}");
    }
    // now even the right password has to wait
    let r = decide(&mut browser, &url, "demo", &demo_password(&s), "allow");
    assert_eq!(r.status, 429, "{}", r.body);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(r.body.contains("Too many failed attempts"));
    // the account page shares the counter
    let tls_base = s.tls_base.clone().unwrap();
    let form = browser.get(&format!("{tls_base}/account/apps"));
    let r = browser.post(
        &format!("{tls_base}/account/signin"),
        &[
            ("csrf", &form.hidden("csrf")),
            ("username", "demo"),
            ("password", &demo_password(&s)),
        ],
    );
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    // once the wait is over, the right password works
    s.shift_clock(31);
    let r = decide(&mut browser, &url, "demo", &demo_password(&s), "allow");
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn https_from_a_trusted_proxy_counts_and_from_others_does_not() {
    let proxied = Server::start_with("[server]\ntrusted_proxies = [\"127.0.0.1\"]\n");
    let untrusted = Server::start();
    for (s, expect) in [(&proxied, 200), (&untrusted, 403)] {
        let body = crate::helpers::signed_body(
            s.demo.as_ref().unwrap(),
            &[("token_secret", SECRET), ("app_name", "Proxied App")],
        );
        let r = raw_post(
            &s.addr,
            "/request-token",
            "X-Forwarded-Proto: https\r\nX-Forwarded-Host: api.example.com\r\n",
            "application/x-www-form-urlencoded",
            &body,
        );
        assert_eq!(r.status, expect, "{}", r.body);
        if expect == 200 {
            assert!(
                r.body.contains("<auth_url>https://api.example.com/auth/"),
                "{}",
                r.body
            );
        }
    }
}

#[test]
fn token_secrets_follow_a_master_key_rotation() {
    if crate::helpers::on_postgres() {
        return; // on PostgreSQL every instance restarts with the new key (docs/operations.md)
    }
    let s = Server::start_tls_with("");
    let mut browser = Browser::new(&s.cert_pem());
    let token = authorized_token(&s, &mut browser, "rotating app");
    assert_eq!(user_call(&s, &token, "get-user-profile", 0).status, 200);
    let out = s.cli(&["keys", "rotate-master"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(api keys and user tokens)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // the token secret was sealed again under the new key: user calls go on
    let r = user_call(&s, &token, "get-user-profile", 0);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(s.cli(&["check"]).status.success());
}

#[test]
fn the_configured_sign_in_policy_throttles_too() {
    let s = Server::start_tls_with(
        "[rate_limits.failed_sign_in]\nburst = 2\nper_second = 0.01\ndaily = 0\n",
    );
    let (_, url) = request_token(&s, "App", &[]);
    let mut browser = Browser::new(&s.cert_pem());
    for i in 0..2 {
        let r = decide(&mut browser, &url, "demo", "guess", "allow");
        assert_eq!(r.status, 401, "attempt {i}");
    }
    // the configured bucket (2) is empty long before the persistent backoff (5)
    let r = decide(&mut browser, &url, "demo", &demo_password(&s), "allow");
    assert_eq!(r.status, 429, "{}", r.body);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((31..=100).contains(&wait), "{wait}");
}
