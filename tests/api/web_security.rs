//! The sign-in pages under attack (issue 12, defects 7, 8, 9, 11), over real
//! HTTP and HTTPS: passwords only over HTTPS when it is available, no open
//! redirect through Deny, callback prefixes per key, callbacks that can never
//! break the answer, and sessions that end with account changes.

use panthera::client::{Credentials, Reply};

use crate::browser::{Browser, Page};
use crate::helpers::{raw, raw_post, Server};

const SECRET: &str = "MySecret";
/// These tests ask for more tokens than the default request-token limit allows.
const MANY_TOKENS: &str =
    "[rate_limits.methods.request-token]\nburst = 100\nper_second = 10.0\ndaily = 100000\n";

fn json(r: &Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// `request-token` over TLS signed with `creds`.
fn request_token_as(s: &Server, creds: &Credentials, extra: &[(&str, &str)]) -> Reply {
    let mut p = vec![
        ("token_secret", SECRET),
        ("app_name", "Some App"),
        ("content_type", "application/json"),
    ];
    p.extend_from_slice(extra);
    let client = panthera::client::Client::new(s.tls_base.as_deref().unwrap(), creds.clone())
        .with_ca_pem(&s.cert_pem())
        .unwrap();
    client.call(None, "request-token", &p).unwrap()
}

/// A pending token of the demo app: (token, auth_url).
fn request_token(s: &Server, extra: &[(&str, &str)]) -> (String, String) {
    let r = request_token_as(s, s.demo.as_ref().unwrap(), extra);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json(&r);
    (
        v["token"].as_str().unwrap().to_string(),
        v["auth_url"].as_str().unwrap().to_string(),
    )
}

fn demo(s: &Server) -> (String, String) {
    s.demo_user.clone().unwrap()
}

/// The `Set-Cookie` of cookie `name`, whole.
fn set_cookie<'a>(page: &'a Page, name: &str) -> &'a str {
    page.set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name} in {:?}", page.set_cookies))
}

/// Signs in on the account page at `base`; the answer to the form.
fn sign_in(browser: &mut Browser, base: &str, user: &str, pw: &str) -> Page {
    let form = browser.get(&format!("{base}/account/apps"));
    assert_eq!(form.status, 200, "{}", form.body);
    browser.post(
        &format!("{base}/account/signin"),
        &[
            ("csrf", &form.hidden("csrf")),
            ("username", user),
            ("password", pw),
        ],
    )
}

/// Whether the browser is signed in on the account page at `base`.
fn signed_in(browser: &mut Browser, base: &str) -> bool {
    let page = browser.get(&format!("{base}/account/apps"));
    assert_eq!(page.status, 200, "{}", page.body);
    page.body.contains("Signed in as")
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---- 7: passwords over plain HTTP ----

#[test]
fn with_a_tls_listener_the_pages_move_to_https_and_refuse_plain_forms() {
    let s = Server::start_tls_with("");
    let tls = s.tls_base.clone().unwrap();
    let (user, pw) = demo(&s);
    let (token, auth_url) = request_token(&s, &[]);
    assert_eq!(auth_url, format!("{tls}/auth/{token}"));
    let mut browser = Browser::new(&s.cert_pem());

    // pages asked for over HTTP: 308 to the same page over HTTPS
    let page = browser.get(&format!("{}/auth/{token}?lang=de", s.base));
    assert_eq!(page.status, 308, "{}", page.body);
    let to = format!("{tls}/auth/{token}?lang=de");
    assert_eq!(page.header("location"), Some(to.as_str()));
    assert!(page.set_cookies.is_empty(), "{:?}", page.set_cookies);
    let apps = browser.get(&format!("{}/account/apps", s.base));
    assert_eq!(apps.status, 308);
    let to = format!("{tls}/account/apps");
    assert_eq!(apps.header("location"), Some(to.as_str()));

    // over HTTPS: the form, its CSRF cookie Secure and __Host- named
    let form = browser.get(&auth_url);
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf_cookie = set_cookie(&form, "__Host-panthera_csrf");
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    assert!(csrf_cookie.contains("Path=/;"), "{csrf_cookie}");
    assert!(!csrf_cookie.to_ascii_lowercase().contains("domain="));
    let csrf = form.hidden("csrf");

    // the same form posted over plain HTTP, password and all: refused
    let allow = [
        ("csrf", csrf.as_str()),
        ("username", user.as_str()),
        ("password", pw.as_str()),
        ("decision", "allow"),
    ];
    let refused = browser.post(&format!("{}/auth/{token}", s.base), &allow);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Passwords are accepted only over HTTPS"),
        "{}",
        refused.body
    );
    assert!(refused
        .body
        .contains(&format!("{tls}/auth/{token}?lang=en")));
    assert!(refused.set_cookies.is_empty(), "{:?}", refused.set_cookies);
    let refused = browser.post(
        &format!("{}/account/signin", s.base),
        &[("csrf", "x"), ("username", &user), ("password", &pw)],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.set_cookies.is_empty());
    // nothing was decided: the page still asks
    assert_eq!(browser.get(&auth_url).status, 200);

    // over HTTPS it works, and the session cookie is Secure and __Host- named
    let done = browser.post(&auth_url, &allow);
    assert_eq!(done.status, 200, "{}", done.body);
    let session = set_cookie(&done, "__Host-panthera_session");
    assert!(
        session.contains("; Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    assert!(signed_in(&mut browser, &tls));
    // a plain-named session cookie (as a network attacker could plant one
    // over HTTP) does not count over HTTPS
    let id = browser
        .cookie("__Host-panthera_session")
        .unwrap()
        .to_string();
    let mut planted = Browser::new(&s.cert_pem());
    planted.add_cookie("panthera_session", &id);
    assert!(!signed_in(&mut planted, &tls));
    planted.add_cookie("__Host-panthera_session", &id);
    assert!(signed_in(&mut planted, &tls));
}

#[test]
fn without_https_or_with_the_development_switch_plain_http_keeps_working() {
    let plain = Server::start();
    let switched = Server::start_tls_with("[server]\nallow_insecure_sign_in = true\n");
    for s in [&plain, &switched] {
        let (user, pw) = demo(s);
        let mut browser = Browser::plain();
        let form = browser.get(&format!("{}/account/apps", s.base));
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = set_cookie(&form, "panthera_csrf");
        assert!(!csrf.contains("Secure"), "{csrf}");
        let done = sign_in(&mut browser, &s.base, &user, &pw);
        assert_eq!(done.status, 303, "{}", done.body);
        let session = set_cookie(&done, "panthera_session");
        assert!(!session.contains("Secure"), "{session}");
        assert!(signed_in(&mut browser, &s.base));
    }
    // the switch leaves HTTPS as it was
    let mut browser = Browser::new(&switched.cert_pem());
    let form = browser.get(&format!(
        "{}/account/apps",
        switched.tls_base.as_ref().unwrap()
    ));
    set_cookie(&form, "__Host-panthera_csrf");
}

#[test]
fn behind_a_trusted_proxy_its_reported_protocol_decides() {
    let s = Server::start_with("[server]\ntrusted_proxies = [\"127.0.0.1\"]\n");
    let page = |headers: &str| {
        raw(
            &s.addr,
            format!(
                "GET /account/apps?lang=de HTTP/1.1\r\nHost: {}\r\nUser-Agent: test\r\n{headers}Connection: close\r\n\r\n",
                s.addr
            )
            .as_bytes(),
        )
    };
    let r = page("X-Forwarded-Proto: http\r\nX-Forwarded-Host: panthera.example:80\r\n");
    assert_eq!(r.status, 308, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("https://panthera.example/account/apps?lang=de")
    );
    let r = page("Forwarded: proto=http;host=panthera.example\r\n");
    assert_eq!(r.status, 308, "{}", r.body);
    let r = page("X-Forwarded-Proto: https\r\nX-Forwarded-Host: panthera.example\r\n");
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap_or_default();
    assert!(
        cookie.starts_with("__Host-panthera_csrf=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    // a proxy that names no protocol: nothing known about HTTPS, as before
    assert_eq!(page("").status, 200);
    let form = raw_post(
        &s.addr,
        "/account/signin",
        "X-Forwarded-Proto: http\r\n",
        "application/x-www-form-urlencoded",
        "csrf=x&username=demo&password=secret",
    );
    assert_eq!(form.status, 403, "{}", form.body);

    // from anyone else the header means nothing
    let other = Server::start();
    let r = raw(
        &other.addr,
        format!(
            "GET /account/apps HTTP/1.1\r\nHost: {}\r\nUser-Agent: test\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n",
            other.addr
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

// ---- 8: open redirect ----

#[test]
fn deny_goes_to_the_callback_only_for_a_signed_in_browser() {
    let s = Server::start_tls_with("");
    let tls = s.tls_base.clone().unwrap();
    let (user, pw) = demo(&s);
    let (_, url) = request_token(&s, &[("app_callback", "https://evil.example/phish")]);
    let mut stranger = Browser::new(&s.cert_pem());
    let form = stranger.get(&url);
    let out = stranger.post(
        &url,
        &[("csrf", &form.hidden("csrf")), ("decision", "deny")],
    );
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.header("location"), None);
    assert!(out.body.contains("Access denied"), "{}", out.body);
    assert_eq!(stranger.get(&url).status, 410, "the token is denied");

    // signed in, the decision is the user's: back to the app
    let mut user_browser = Browser::new(&s.cert_pem());
    assert_eq!(sign_in(&mut user_browser, &tls, &user, &pw).status, 303);
    let (token, url) = request_token(&s, &[("app_callback", "https://app.example/cb")]);
    let form = user_browser.get(&url);
    let out = user_browser.post(
        &url,
        &[("csrf", &form.hidden("csrf")), ("decision", "deny")],
    );
    assert_eq!(out.status, 303, "{}", out.body);
    let to = format!("https://app.example/cb?token={token}&status=denied");
    assert_eq!(out.header("location"), Some(to.as_str()));
}

#[test]
fn a_key_with_registered_callback_prefixes_accepts_only_those() {
    let s = Server::start_tls_with(MANY_TOKENS);
    let demo_key = s.demo.clone().unwrap();
    let k = demo_key.api_key.as_str();
    let out = ok(&s.cli(&["keys", "callbacks", k]));
    assert!(out.contains("accepts any"), "{out}");
    let why = failed(&s.cli(&["keys", "callbacks", k, "--allow", "https://app.example"]));
    assert!(why.contains("path after the host"), "{why}");
    failed(&s.cli(&[
        "keys",
        "callbacks",
        k,
        "--allow",
        "https://app.example/\r\n",
    ]));
    let why = failed(&s.cli(&[
        "keys",
        "callbacks",
        "nokey",
        "--allow",
        "https://a.example/",
    ]));
    assert!(why.contains("no api key"), "{why}");
    let out = ok(&s.cli(&[
        "keys",
        "callbacks",
        k,
        "--allow",
        "https://app.example/cb",
        "--allow",
        "https://app.example/other/",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["callbacks"],
        serde_json::json!(["https://app.example/cb", "https://app.example/other/"])
    );

    for bad in [
        "https://evil.example/phish",
        "https://app.example.evil.example/cb",
        "http://app.example/cb",
    ] {
        let r = request_token_as(&s, &demo_key, &[("app_callback", bad)]);
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        let msg = json(&r)["err"]["msg"].as_str().unwrap().to_string();
        assert!(
            msg.contains("app_callback") && msg.contains("registered"),
            "{msg}"
        );
    }
    for good in [
        "https://app.example/cb?x=1",
        "https://app.example/other/done",
    ] {
        let r = request_token_as(&s, &demo_key, &[("app_callback", good)]);
        assert_eq!(r.status, 200, "{good}: {}", r.body);
    }
    assert_eq!(
        request_token_as(&s, &demo_key, &[]).status,
        200,
        "no callback is fine"
    );

    // a key without prefixes keeps accepting any http(s) callback
    let other = s.create_key("other app");
    let r = request_token_as(&s, &other, &[("app_callback", "https://evil.example/x")]);
    assert_eq!(r.status, 200, "{}", r.body);

    let out = ok(&s.cli(&["keys", "callbacks", k, "--remove", "https://app.example/cb"]));
    assert!(out.contains("https://app.example/other/") && !out.contains("app.example/cb"));
    ok(&s.cli(&["keys", "callbacks", k, "--clear"]));
    let r = request_token_as(&s, &demo_key, &[("app_callback", "https://evil.example/x")]);
    assert_eq!(r.status, 200, "{}", r.body);
}

// ---- 9: CR/LF in app_callback ----

#[test]
fn callbacks_with_control_characters_are_refused_and_stored_ones_never_break_the_page() {
    if crate::helpers::on_postgres() {
        return; // it reads the SQLite file itself
    }
    let s = Server::start_tls_with(MANY_TOKENS);
    let demo_key = s.demo.clone().unwrap();
    for bad in [
        "https://app.example/cb\r\nSet-Cookie: x=1",
        "https://app.example/cb\nx",
        "https://app.example/c b",
        "https://app.example/\u{7f}",
        "https://bücher.example/cb",
        "https://app.example\\@evil.example/",
        "https:///no-host",
    ] {
        let r = request_token_as(&s, &demo_key, &[("app_callback", bad)]);
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        let msg = json(&r)["err"]["msg"].as_str().unwrap().to_string();
        assert!(msg.contains("app_callback"), "{msg}");
    }

    // a value stored before the check existed: the page, never a 500
    let (user, pw) = demo(&s);
    let mut browser = Browser::new(&s.cert_pem());
    for stored in ["https://app.example/cb\r\nX-Evil: 1", "javascript:alert(1)"] {
        let (token, url) = request_token(&s, &[("app_callback", "https://app.example/cb")]);
        let db = rusqlite::Connection::open(s.dir.join("panthera.db")).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        let n = db
            .execute(
                "UPDATE tokens SET app_callback = ?1 WHERE token = ?2",
                [stored, token.as_str()],
            )
            .unwrap();
        assert_eq!(n, 1);
        drop(db);
        let form = browser.get(&url);
        let done = browser.post(
            &url,
            &[
                ("csrf", &form.hidden("csrf")),
                ("username", &user),
                ("password", &pw),
                ("decision", "allow"),
            ],
        );
        assert_eq!(done.status, 200, "{stored:?}: {}", done.body);
        assert_eq!(done.header("location"), None);
        assert!(done.body.contains("Authorized"), "{}", done.body);
        assert!(done
            .headers
            .iter()
            .all(|(n, _)| !n.eq_ignore_ascii_case("x-evil")));
    }
}

// ---- 11: sessions outlive account changes ----

#[test]
fn a_new_password_disabling_or_deleting_an_account_ends_its_sessions() {
    if crate::helpers::on_postgres() {
        return; // it reads the SQLite file itself
    }
    let s = Server::start();
    let base = s.base.clone();
    let create = |name: &str| -> String {
        let out = ok(&s.cli(&[
            "users",
            "create",
            "--username",
            name,
            "--email",
            &format!("{name}@example.com"),
            "--password",
            "First-Pass-123",
            "--json",
        ]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["id"].as_str().unwrap().to_string()
    };
    let ann = create("ann");
    let mut browser = Browser::plain();
    let mut other = Browser::plain();
    assert_eq!(
        sign_in(&mut browser, &base, "ann", "First-Pass-123").status,
        303
    );
    assert_eq!(
        sign_in(&mut other, &base, "ann", "First-Pass-123").status,
        303
    );
    assert!(signed_in(&mut browser, &base) && signed_in(&mut other, &base));
    // unrelated changes keep the sessions
    ok(&s.cli(&["users", "show", "ann"]));
    assert!(signed_in(&mut browser, &base));

    // CLI: set-password ends every session of the account
    ok(&s.cli(&[
        "users",
        "set-password",
        "ann",
        "--password",
        "Second-Pass-456",
    ]));
    assert!(!signed_in(&mut browser, &base));
    assert!(!signed_in(&mut other, &base));
    assert_eq!(
        sign_in(&mut browser, &base, "ann", "Second-Pass-456").status,
        303
    );
    assert!(signed_in(&mut browser, &base));

    // CLI: disable
    ok(&s.cli(&["users", "disable", "ann"]));
    assert!(!signed_in(&mut browser, &base));

    // the admin methods take the same path: a new password, then deletion
    let admin = s.admin();
    let r = admin
        .call(None, "update-user", &[("id", &ann), ("status", "active")])
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        sign_in(&mut browser, &base, "ann", "Second-Pass-456").status,
        303
    );
    let r = admin
        .call(
            None,
            "update-user",
            &[("id", &ann), ("password", "Third-Pass-789")],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!signed_in(&mut browser, &base));
    assert_eq!(
        sign_in(&mut browser, &base, "ann", "Third-Pass-789").status,
        303
    );
    let r = admin
        .call(None, "update-user", &[("id", &ann), ("status", "inactive")])
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!signed_in(&mut browser, &base));
    admin
        .call(None, "update-user", &[("id", &ann), ("status", "active")])
        .unwrap();
    assert_eq!(
        sign_in(&mut browser, &base, "ann", "Third-Pass-789").status,
        303
    );
    let r = admin.call(None, "delete-user", &[("id", &ann)]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!signed_in(&mut browser, &base));
    let db = rusqlite::Connection::open(s.dir.join("panthera.db")).unwrap();
    let left: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM sessions WHERE user_id = ?1",
            [&ann],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

/// The key the pages sign CSRF tokens with lives sealed in the store, not in
/// a file beside it: a form made before a restart (or by another instance
/// of a shared database) still submits.
#[test]
fn the_csrf_key_lives_sealed_in_the_store_and_outlives_a_restart() {
    if crate::helpers::on_postgres() {
        return; // it reads the SQLite file itself
    }
    let tmp = tempfile::tempdir().unwrap();
    let first = Server::start_in(tmp.path(), "");
    let (user, pw) = demo(&first);
    let mut browser = Browser::plain();
    let form = browser.get(&format!("{}/account/apps", first.base));
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.hidden("csrf");
    drop(first);
    assert!(!tmp.path().join("token.key").exists());
    let db = rusqlite::Connection::open(tmp.path().join("panthera.db")).unwrap();
    let stored: String = db
        .query_row("SELECT value FROM meta WHERE key = 'csrf_key'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(stored.starts_with("v1."), "sealed: {stored}");
    drop(db);
    let second = Server::start_in(tmp.path(), "");
    let done = browser.post(
        &format!("{}/account/signin", second.base),
        &[("csrf", &csrf), ("username", &user), ("password", &pw)],
    );
    assert_eq!(done.status, 303, "{}", done.body);
}
