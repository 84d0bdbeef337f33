//! `oauth1::parse_header` on arbitrary text (the bytes as UTF-8 when they are,
//! and lossily): never panics, agrees with `is_oauth`, and what it accepts
//! goes through the pure follow-ups the caller check uses (credentials,
//! nonce and window checks, signed parameters, base string, signing key,
//! signature and verification) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panthera::error::ApiError;
use panthera::protocol::auth::{check_nonce, check_window};
use panthera::protocol::oauth1::{self, OAuthCredentials, OAuthError};
use panthera::protocol::timestamp::Timestamp;

/// A fixed "now" for the window check (2012-07-26T14:53:44Z).
const NOW: i64 = 1_343_314_424;

// Input layout: the header, then optionally NUL, query, NUL, urlencoded body.
// A seed without NUL bytes is just a header.
fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let header = parts.next().unwrap_or_default();
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().map(String::from_utf8_lossy);

    if let Ok(text) = std::str::from_utf8(header) {
        check(text, &query, body.as_deref());
    }
    check(&String::from_utf8_lossy(header), &query, body.as_deref());
});

fn check(text: &str, query: &str, body: Option<&str>) {
    let oauth = oauth1::is_oauth(text);
    let header = match oauth1::parse_header(text) {
        Ok(h) => h,
        Err(e) => {
            let _ = e.to_string();
            let api: ApiError = e.clone().into();
            let _ = (api.status(), api.client_message(), api.fatal_body());
            if !oauth {
                assert_eq!(e, OAuthError::NotOAuth);
            }
            return;
        }
    };
    assert!(oauth, "parse_header accepted a non-OAuth value");
    assert!(!header.params.is_empty());
    for (name, _) in &header.params {
        assert!(!name.is_empty());
        assert_ne!(name, "realm");
    }

    // What `format_header` writes reads back as the same parameters.
    let written = oauth1::format_header(&header.params);
    let again = oauth1::parse_header(&written).expect("format_header output parses");
    assert_eq!(again, header, "round trip through {written:?}");

    // The caller check (protocol::caller::by_oauth), minus the store.
    if let Ok(creds) = OAuthCredentials::from_header(&header) {
        let _ = check_nonce(&creds.nonce);
        let _ = check_window(Timestamp::from_unix(creds.timestamp), NOW, 300)
            .map_err(|e| e.to_string());
        let _ = Timestamp::from_unix(creds.timestamp).format();
        let params = oauth1::signed_params(query, body, &header);
        for method in ["POST", "get"] {
            let base = oauth1::base_string(method, "http://example.com/request", &params);
            assert_eq!(base.matches('&').count(), 2, "{base}");
            for token_secret in [&b""[..], b"pfkkdhi9sl3r4s00", b"\xff\xfe"] {
                let key = oauth1::signing_key(creds.consumer_key.as_str(), token_secret);
                let sig = oauth1::signature(creds.algo, &key, &base);
                let _ = oauth1::verify(creds.algo, &key, &base, &creds.signature);
                // A signature made with the key verifies under it.
                let decoded = base64_decode(&sig);
                assert!(oauth1::verify(creds.algo, &key, &base, &decoded));
            }
        }
    } else {
        // Still build the base string from whatever was given.
        let params = oauth1::signed_params(query, body, &header);
        let _ = oauth1::base_string("POST", "http://example.com/request", &params);
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    STANDARD.decode(s).expect("signature() writes base64")
}
