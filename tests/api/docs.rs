//! GET documentation pages (docs.md) for every registered method.

use panthera::client::{random_nonce, sign_params, sign_user_params, Client, UserToken};
use panthera::methods::UserAuth;
use panthera::store::now_unix;

use crate::browser::Browser;
use crate::helpers::{get, Server};
use crate::tokens::{authorized_token, SECRET};

#[test]
fn every_method_has_its_page() {
    let s = Server::start();
    let r = s
        .client()
        .call(
            None,
            "get-method-list",
            &[("content_type", "application/json")],
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    for m in v["methods"]["method"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        for path in [
            format!("/v1.0/{name}"),
            format!("/v1.0/{name}/"),
            format!("/{name}"),
        ] {
            let page = get(&s.addr, &path);
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(
                page.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            assert!(page.body.contains(&format!("<h1>{name}</h1>")), "{path}");
            for section in [
                "Endpoint",
                "Parameters",
                "Errors",
                "Sample request",
                "User authentication",
                "SSL",
            ] {
                assert!(page.body.contains(section), "{path} lacks {section}");
            }
        }
    }
}

#[test]
fn the_method_page_shows_parameters_and_sample() {
    let s = Server::start();
    let page = get(&s.addr, "/v1.0/get-method-info");
    assert!(
        page.body
            .contains("<code>method</code> <abbr title=\"required\">*</abbr>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("POST /v1.0/get-method-info HTTP/1.1"));
    assert!(page.body.contains("method=host-info"));
    assert!(page
        .body
        .contains(&format!("POST {}/v1.0/get-method-info", s.base)));
}

#[test]
fn index_lists_the_methods() {
    let s = Server::start();
    for path in ["/", "/v1.0/", "/v1.0"] {
        let page = get(&s.addr, path);
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("href=\"/v1.0/host-info\""), "{path}");
        assert!(page.body.contains("<html lang=\"en\">"));
        assert!(page.body.contains("name=\"viewport\""));
    }
}

#[test]
fn unknown_pages_are_404_and_escape_their_input() {
    let s = Server::start();
    let page = get(&s.addr, "/v1.0/%3Cscript%3E");
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("<script>"));
}

/// The methods a signed app can call without a user token, from the registry.
fn app_methods() -> Vec<&'static panthera::methods::Method> {
    panthera::methods::all()
        .iter()
        .filter(|m| m.user_auth != panthera::methods::UserAuth::Required && !m.ssl)
        .collect()
}

/// The credentials a method's sample runs with: an admin key where the
/// method needs one, else the demo key.
fn sample_credentials(
    s: &Server,
    admin: &panthera::client::Credentials,
    m: &panthera::methods::Method,
) -> panthera::client::Credentials {
    if m.admin {
        admin.clone()
    } else {
        s.demo.clone().unwrap()
    }
}

/// Every method the samples run for, in registry order (later samples may
/// rely on what earlier ones did, never the other way round).
fn sampled_methods() -> impl Iterator<Item = &'static panthera::methods::Method> {
    panthera::methods::all().iter()
}

/// A TLS server (for request-token) and an authorized token of its demo user
/// (approved on the real authorization page).
fn server_with_token() -> (Server, UserToken) {
    let s = Server::start_tls_with("");
    let mut browser = Browser::new(&s.cert_pem());
    let token = authorized_token(&s, &mut browser, "docs samples");
    let user = UserToken {
        auth_token: token,
        token_secret: SECRET.into(),
    };
    (s, user)
}

#[test]
fn every_sample_request_shown_succeeds() {
    let (s, user) = server_with_token();
    let admin = s.create_admin_key();
    for m in sampled_methods() {
        let v = m.since.to_string();
        let creds = sample_credentials(&s, &admin, m);
        let mut form = if m.user_auth == UserAuth::Required {
            sign_user_params(&creds, &user, now_unix(), &random_nonce())
        } else {
            sign_params(&creds, now_unix(), &random_nonce())
        };
        let sample = m.sample_params();
        form.extend(sample.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let base = if m.ssl {
            s.tls_base.clone().unwrap()
        } else {
            s.base.clone()
        };
        let client = Client::new(&base, creds)
            .with_ca_pem(&s.cert_pem())
            .unwrap();
        let r = client
            .post_form(&format!("{base}/v{v}/{}", m.name), &form)
            .unwrap();
        assert_eq!(r.status, 200, "{} v{v}: {}", m.name, r.body);
        let page = get(&s.addr, &format!("/v{v}/{}", m.name));
        for (k, val) in &sample {
            if val.contains(" UTC") {
                continue; // a {now+…} timestamp: the page made its own
            }
            let shown = serde_urlencoded::to_string([(k, val)]).unwrap();
            assert!(page.body.contains(&shown), "{}: page lacks {shown}", m.name);
        }
    }
}

#[test]
fn every_code_sample_runs_in_its_language() {
    use panthera::docs::code::{sample, Lang};
    let dir = tempfile::tempdir().unwrap();
    // one fresh server per language: samples that change data run once each
    for lang in Lang::ALL {
        let Some(runner) = lang.runner() else {
            continue;
        };
        let (s, user) = server_with_token();
        let admin = s.create_admin_key();
        // SSL-only methods are left out: the samples' HTTP clients would not
        // trust the test's self-signed certificate.
        for m in sampled_methods().filter(|m| !m.ssl) {
            let file = dir.path().join(format!("{}.{}", m.name, lang.extension()));
            std::fs::write(&file, sample(lang, m, m.since)).unwrap();
            let out = s.run_client_env(
                &sample_credentials(&s, &admin, m),
                &[
                    ("PANTHERA_AUTH_TOKEN", user.auth_token.as_str()),
                    ("PANTHERA_TOKEN_SECRET", user.token_secret.as_str()),
                ],
                runner,
                &file,
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("<rsp stat=\"ok\">"),
                "{} in {runner}: {stdout}\n{}",
                m.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn pages_show_sample_answers_in_both_encodings() {
    let s = Server::start();
    let page = get(&s.addr, "/v1.0/get-user-content-langs");
    assert!(page.body.contains("Sample answer"), "{}", page.body);
    assert!(page
        .body
        .contains("&lt;lang id=&quot;de&quot; name=&quot;German&quot;/&gt;"));
    assert!(page.body.contains("&quot;stat&quot;: &quot;ok&quot;"));
    for lang in [
        "curl (sh + openssl)",
        "PHP",
        "Python",
        "JavaScript (Node.js 18+)",
        "Rust",
    ] {
        assert!(
            page.body.contains(&format!("<summary>{lang}</summary>")),
            "{lang}"
        );
    }
}

#[test]
fn guides_are_served_from_the_markdown_in_docs() {
    let s = Server::start();
    let index = get(&s.addr, "/");
    for g in panthera::docs::guides::GUIDES {
        assert!(
            index.body.contains(&format!("href=\"/guide/{}\"", g.stem)),
            "{}",
            g.stem
        );
        let page = get(&s.addr, &format!("/guide/{}", g.stem));
        assert_eq!(page.status, 200, "{}", g.stem);
        let first = g.markdown.lines().next().unwrap().trim_start_matches("# ");
        assert!(
            page.body.contains(&panthera_escape(first)),
            "{}: {first}",
            g.stem
        );
    }
    assert_eq!(get(&s.addr, "/guide/nope").status, 404);
}

fn panthera_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn openapi_is_valid_and_real_answers_match_its_schemas() {
    let s = Server::start();
    let doc = get(&s.addr, "/openapi.json");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    assert_eq!(v["openapi"], "3.1.0");
    let mut answers = Vec::new();
    for m in app_methods() {
        let path = format!("/v{}/{}", m.since, m.name);
        assert!(v["paths"][&path]["post"].is_object(), "{path} missing");
        let sample = m.sample_params();
        let mut params: Vec<(&str, &str)> = sample.iter().map(|(k, v)| (*k, v.as_str())).collect();
        params.push(("content_type", "application/json"));
        let r = s
            .client()
            .call(Some(&m.since.to_string()), m.name, &params)
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        answers.push(serde_json::json!({"path": path, "status": r.status, "body": body}));
    }
    // an error answer validates against its error schema too
    let r = s
        .client()
        .call(
            Some("1.0"),
            "get-method-info",
            &[("method", "nope"), ("content_type", "application/json")],
        )
        .unwrap();
    answers.push(
        serde_json::json!({"path": "/v1.0/get-method-info", "status": r.status,
        "body": serde_json::from_str::<serde_json::Value>(&r.body).unwrap()}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), &doc.body).unwrap();
    std::fs::write(
        dir.path().join("answers.json"),
        serde_json::to_string(&answers).unwrap(),
    )
    .unwrap();
    let script = format!(
        "{}/tests/docs/validate_openapi.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.path().join("openapi.json"))
        .arg(dir.path().join("answers.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn docs_export_writes_reference_openapi_and_postman() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::helpers::BIN)
        .args(["docs", "export", "--out"])
        .arg(dir.path())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(dir.path().join("reference.md")).unwrap();
    assert!(md.contains("## host-info") && md.contains("Sample answer"));
    let openapi: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("openapi.json")).unwrap())
            .unwrap();
    assert!(openapi["paths"]["/v1.0/host-info"].is_object());
    let postman: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("postman_collection.json")).unwrap(),
    )
    .unwrap();
    // one folder per area
    let names: Vec<&str> = postman["item"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["item"].as_array().unwrap())
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"host-info"));
}

/// Fills and sends the try-it form of `page` in headless Chromium; returns
/// what the page showed (answer, signed string, raw request, axe violations).
fn try_it(s: &Server, page: &str, fields: &[String]) -> serde_json::Value {
    let creds = s.demo.clone().unwrap();
    let dir = env!("CARGO_MANIFEST_DIR");
    let shot = format!("{dir}/target/tryit-{}.png", page.replace('/', "_"));
    let out = std::process::Command::new("node")
        .arg(format!("{dir}/tests/browser/tryit.mjs"))
        .arg(format!("{}{page}", s.base))
        .arg(&creds.api_key)
        .arg(&creds.api_secret)
        .arg(&shot)
        .args(fields)
        .output()
        .expect("node runs (scripts/test installs node modules and chromium)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !v["request"].as_str().unwrap().contains(&creds.api_secret),
        "the secret stays in the page"
    );
    assert_eq!(
        v["axe"],
        serde_json::json!([]),
        "accessibility violations on {page}"
    );
    // complete raw request; a 390 px phone never scrolls sideways, long lines
    // wrap, and try-it comes before the parameter table
    assert!(
        v["request"].as_str().unwrap().contains("\nUser-Agent: "),
        "{}",
        v["request"]
    );
    let l = &v["layout"];
    assert!(
        l["scrollWidth"].as_i64().unwrap() <= l["clientWidth"].as_i64().unwrap(),
        "horizontal scroll at 390 px on {page}: {l}"
    );
    assert_eq!(l["preWhiteSpace"], "pre-wrap", "{page}");
    assert!(
        l["tryitTop"].as_f64().unwrap() < l["parametersTop"].as_f64().unwrap(),
        "try-it near the top of {page}: {l}"
    );
    v
}

#[test]
fn try_it_signs_in_headless_chromium_and_the_page_is_accessible() {
    let (s, user) = server_with_token();
    let creds = s.demo.clone().unwrap();
    let v = try_it(&s, "/v1.0/host-info", &[]);
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.starts_with("HTTP 200"), "{answer}");
    assert!(answer.contains("<rsp stat=\"ok\">"), "{answer}");
    assert!(v["signed"].as_str().unwrap().contains(&creds.api_key));

    // a user method, signed with the token as well
    let v = try_it(
        &s,
        "/v1.0/get-user-profile",
        &[
            format!("auth_token={}", user.auth_token),
            format!("token_secret={}", user.token_secret),
        ],
    );
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.starts_with("HTTP 200"), "{answer}");
    assert!(answer.contains("<username>demo</username>"), "{answer}");
    assert!(!v["request"].as_str().unwrap().contains(&user.token_secret));
    let signed = v["signed"].as_str().unwrap();
    assert!(signed.contains(&user.auth_token), "{signed}");
}
