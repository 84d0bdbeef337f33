//! The Python and JavaScript SDKs (clients/python, clients/js) run their own
//! tests (`python3 -m unittest`, `node --test`) against a real HTTPS server:
//! signed calls in every algorithm and format, typed errors, downloads, the
//! user-token flow with a token approved on the real authorization page, a
//! clock-skewed request refused and corrected, and the REST users API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::browser::Browser;
use crate::helpers::Server;
use crate::rest_users::rest_token;
use crate::tokens::{authorized_token, SECRET};

/// How far the server clock runs ahead while the SDK tests run.
/// Past the ±300 s window, within a fresh token's 10 minutes.
const SHIFT_SECS: i64 = 400;

fn clients() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn both_sdks_pass_their_tests_against_a_real_server() {
    let s = Server::start_tls_with("");
    let demo = s.demo.clone().expect("demo");
    let mut browser = Browser::new(&s.cert_pem());
    let user_token = authorized_token(&s, &mut browser, "SDK tests");
    let admin = s.create_admin_key();
    let rest = rest_token(&s, &admin.api_key);
    let app_rest = rest_token(&s, &demo.api_key);
    s.shift_clock(SHIFT_SECS);
    let cert = s.dir.join("tls").join("cert.pem");
    let shift = SHIFT_SECS.to_string();
    let env: Vec<(&str, &str)> = vec![
        ("PANTHERA_URL", s.tls_base.as_deref().expect("tls")),
        ("PANTHERA_PLAIN_URL", &s.base),
        ("PANTHERA_API_KEY", &demo.api_key),
        ("PANTHERA_API_SECRET", &demo.api_secret),
        ("PANTHERA_CA", cert.to_str().expect("path")),
        ("NODE_EXTRA_CA_CERTS", cert.to_str().expect("path")),
        ("PANTHERA_REST_TOKEN", &rest),
        ("PANTHERA_APP_REST_TOKEN", &app_rest),
        ("PANTHERA_USER_TOKEN", &user_token),
        ("PANTHERA_TOKEN_SECRET", SECRET),
        ("PANTHERA_CLOCK_SHIFT", &shift),
        ("PYTHONDONTWRITEBYTECODE", "1"),
    ];

    let py = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s", "tests", "-t", "."])
        .current_dir(clients().join("python"))
        .envs(env.iter().copied())
        .output()
        .expect("python3 (scripts/test installs it)");
    let out = text(&py);
    assert!(py.status.success(), "{out}");
    assert!(out.contains("\nOK") && !out.contains("skipped"), "{out}");
    for name in [
        "test_a_clock_skewed_request_is_refused_then_corrected",
        "test_calls_for_an_approved_user",
        "test_the_user_token_flow",
        "test_create_read_update_list_delete",
    ] {
        assert!(out.contains(name), "{name} ran: {out}");
    }

    let js = Command::new("node")
        .arg("--test")
        .current_dir(clients().join("js"))
        .envs(env.iter().copied())
        .output()
        .expect("node (scripts/test installs it)");
    let out = text(&js);
    assert!(js.status.success(), "{out}");
    assert!(
        out.contains("# fail 0") && out.contains("# skipped 0"),
        "{out}"
    );
    assert!(out.contains("a clock-skewed request is refused, then corrected"));
}

#[test]
fn the_sdks_are_versioned_with_the_server() {
    let version = env!("CARGO_PKG_VERSION");
    let read = |p: &str| std::fs::read_to_string(clients().join(p)).expect(p);
    let package: serde_json::Value =
        serde_json::from_str(&read("js/package.json")).expect("package.json");
    assert_eq!(package["version"], version);
    assert_eq!(package["types"], "index.d.ts");
    assert!(read("js/index.js").contains(&format!("const VERSION = '{version}';")));
    assert!(read("python/pyproject.toml").contains(&format!("version = \"{version}\"")));
    assert!(read("python/panthera_client/__init__.py")
        .contains(&format!("__version__ = \"{version}\"")));
}
