//! OAuth 1.0 (protocol.md §5) against an independent implementation: Python's
//! oauthlib signs requests the server must accept, and tampered ones it must
//! refuse. `scripts/test` installs oauthlib when it is missing.

use std::collections::BTreeMap;
use std::process::Command;

use panthera::client::UserToken;

use crate::browser::Browser;
use crate::helpers::Server;
use crate::tokens::{authorized_token, SECRET};

/// Runs the oauthlib example against `s`: case → (status, body).
fn run_oauthlib(s: &Server, token: Option<(&str, &str)>) -> BTreeMap<String, (u16, String)> {
    let creds = s.demo.clone().unwrap();
    let script = format!(
        "{}/examples/clients/oauth1_calls.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .env("PANTHERA_URL", &s.base)
        .env("PANTHERA_API_KEY", &creds.api_key)
        .env("PANTHERA_API_SECRET", &creds.api_secret);
    if let Some((t, secret)) = token {
        cmd.env("PANTHERA_AUTH_TOKEN", t)
            .env("PANTHERA_TOKEN_SECRET", secret);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (scripts/test installs it): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "oauthlib script failed (pip install oauthlib; scripts/test does):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                v["case"].as_str().unwrap().to_string(),
                (
                    v["status"].as_u64().unwrap() as u16,
                    v["body"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn oauthlib_signed_requests_are_accepted_and_tampered_ones_refused() {
    let s = Server::start_tls_with("");
    let mut browser = Browser::new(&s.cert_pem());
    let token = authorized_token(&s, &mut browser, "OAuth App");
    let secret = SECRET;

    let results = run_oauthlib(&s, Some((&token, secret)));
    let expect = |case: &str, status: u16, contains: &str| {
        let (got, body) = results
            .get(case)
            .unwrap_or_else(|| panic!("{case} did not run: {results:?}"));
        assert_eq!(*got, status, "{case}: {body}");
        assert!(body.contains(contains), "{case}: {body}");
    };
    expect("consumer_sha1", 200, "\"stat\":\"ok\"");
    expect("consumer_sha256", 200, "\"name\":\"host-info\"");
    expect("query_sha512_get", 200, "\"stat\":\"ok\"");
    expect("replay_first", 200, "\"stat\":\"ok\"");
    expect("replay_again", 403, "replayed");
    expect(
        "tampered_body",
        403,
        "403 Forbidden (invalid oauth_signature)",
    );
    expect("wrong_secret", 403, "invalid oauth_signature");
    expect("mixed_schemes", 400, "not both");
    expect("token_profile", 200, "\"username\":\"demo\"");
    expect(
        "token_sha256_deposit",
        200,
        "\"deposit-remaining\":\"1000\"",
    );
    expect("wrong_token_secret", 403, "invalid oauth_signature");
    expect("unknown_token", 403, "invalid oauth_signature");

    // the same token still works with the form scheme
    let r = s
        .client()
        .with_token(UserToken {
            auth_token: token,
            token_secret: secret.into(),
        })
        .call(None, "get-user-profile", &[])
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn a_malformed_oauth_header_is_a_fatal_400() {
    let s = Server::start();
    let r = crate::helpers::raw_post(
        &s.addr,
        "/host-info",
        "Authorization: OAuth oauth_consumer_key=\"unterminated\r\n",
        "application/x-www-form-urlencoded",
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("malformed OAuth header"), "{}", r.body);
    let r = crate::helpers::raw_post(
        &s.addr,
        "/host-info",
        "Authorization: OAuth oauth_consumer_key=\"k\", oauth_nonce=\"n\", oauth_timestamp=\"1\", oauth_signature=\"AAAA\", oauth_signature_method=\"PLAINTEXT\"\r\n",
        "application/x-www-form-urlencoded",
        "",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("HMAC-SHA1 - HMAC-SHA256 - HMAC-SHA512"),
        "{}",
        r.body
    );
}
