//! Issue 16: the documentation as a newcomer meets it. The README's snippets
//! run as pasted; method pages show and sign user tokens; error tables; the
//! OpenAPI security schemes; the Postman collection served and run by newman.

use panthera::client::UserToken;
use panthera::methods::UserAuth;

use crate::browser::Browser;
use crate::helpers::{get, Server};
use crate::tokens::{authorized_token, SECRET};

const README: &str = include_str!("../../README.md");

/// The fenced blocks of `lang` in the README.
fn readme_blocks(lang: &str) -> Vec<String> {
    let open = format!("```{lang}\n");
    let mut blocks = Vec::new();
    let mut rest = README;
    while let Some(i) = rest.find(&open) {
        let body = &rest[i + open.len()..];
        let end = body.find("```").expect("closed block");
        blocks.push(body[..end].to_string());
        rest = &body[end + 3..];
    }
    blocks
}

/// A plain server plus a TLS one for request-token, and an authorized token of
/// the demo user (approved on the real authorization page).
pub fn server_with_token() -> (Server, UserToken) {
    let s = Server::start_tls_with("");
    let mut browser = Browser::new(&s.cert_pem());
    let token = authorized_token(&s, &mut browser, "docs reference");
    (
        s,
        UserToken {
            auth_token: token,
            token_secret: SECRET.into(),
        },
    )
}

#[test]
fn readme_snippets_run_as_pasted() {
    let (s, user) = server_with_token();
    let dir = tempfile::tempdir().unwrap();
    let mut ran = 0;
    for (lang, program, ext) in [
        ("sh", "sh", "sh"),
        ("python", "python3", "py"),
        ("php", "php", "php"),
    ] {
        // the complete programs: those that read the exported credentials
        for (i, block) in readme_blocks(lang)
            .into_iter()
            .filter(|b| b.contains("PANTHERA_API_KEY"))
            .enumerate()
        {
            let file = dir.path().join(format!("readme-{i}.{ext}"));
            std::fs::write(&file, &block).unwrap();
            let out = s.run_client_env(
                s.demo.as_ref().unwrap(),
                &[
                    ("PANTHERA_AUTH_TOKEN", user.auth_token.as_str()),
                    ("PANTHERA_TOKEN_SECRET", user.token_secret.as_str()),
                ],
                program,
                &file,
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success()
                    && (stdout.contains("<rsp stat=\"ok\">") || stdout.contains("\"stat\":\"ok\"")),
                "README {lang} block {i} failed: {stdout}\n{}\n{block}",
                String::from_utf8_lossy(&out.stderr)
            );
            if block.contains("auth_token") {
                assert!(stdout.contains("<username>demo</username>"), "{stdout}");
            }
            ran += 1;
        }
    }
    // host-info in sh, Python and PHP, and the user call with curl
    assert_eq!(ran, 4, "README snippets found");
}

#[test]
fn readme_has_no_stale_names_and_its_tables_render() {
    assert!(
        !README.contains("methods.md"),
        "names a file that does not exist"
    );
    assert!(!README.contains("str_random"), "not a PHP built-in");
    for stale in [
        "$API_KEY",
        "$API_SECRET",
        "$TOKEN",
        "$ADMIN_KEY",
        "$REST_TOKEN",
    ] {
        assert!(!README.contains(stale), "{stale}: use the PANTHERA_* names");
    }
    assert!(README.contains("export PANTHERA_API_KEY="));
    // a Markdown table row must follow a table row: a blank line ends the table
    let lines: Vec<&str> = README.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("| `panthera ") {
            assert!(
                lines[i - 1].starts_with('|'),
                "table broken before line {}: {line}",
                i + 1
            );
        }
    }
    for needed in ["Chromium", "npm", "--break-system-packages"] {
        assert!(
            README.contains(needed),
            "the test command's description lacks {needed}"
        );
    }
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test")).unwrap();
    assert!(
        script.matches("--break-system-packages").count() >= 2,
        "every pip install has the PEP 668 fallback"
    );
}

#[test]
fn user_methods_show_and_sign_their_token() {
    let s = Server::start();
    for m in panthera::methods::all()
        .iter()
        .filter(|m| m.user_auth != UserAuth::No)
    {
        let page = get(&s.addr, &format!("/v{}/{}", m.since, m.name));
        assert_eq!(page.status, 200, "{}", m.name);
        let b = &page.body;
        assert!(!b.contains("takes no other parameters"), "{}", m.name);
        assert!(
            b.contains("<code>auth_token</code>"),
            "{}: token parameter",
            m.name
        );
        assert!(b.contains("<code>access_token</code>"), "{}", m.name);
        let sample = &b[b.find("Sample request").unwrap()..];
        assert!(
            sample.contains("auth_token=") && sample.contains("access_token="),
            "{}",
            m.name
        );
        for lang in panthera::docs::code::Lang::ALL {
            let code = panthera::docs::code::sample(lang, m, m.since);
            assert!(code.contains("PANTHERA_AUTH_TOKEN"), "{} {lang:?}", m.name);
            assert!(code.contains("access_token"), "{} {lang:?}", m.name);
        }
    }
}

#[test]
fn error_tables_list_the_method_s_own_errors_once() {
    let s = Server::start();
    for m in panthera::methods::all() {
        let page = get(&s.addr, &format!("/v{}/{}", m.since, m.name));
        let b = &page.body;
        let start = b
            .find("<h2 id=\"errors\">Errors</h2>")
            .unwrap_or_else(|| panic!("{}", m.name));
        let section = &b[start..];
        let section = &section[..section[5..]
            .find("<h2")
            .map(|i| i + 5)
            .unwrap_or(section.len())];
        assert!(
            section.contains("href=\"/guide/errors\""),
            "{}: links the common errors",
            m.name
        );
        let codes: Vec<&str> = section
            .split("<tr><td>")
            .skip(1)
            .map(|r| &r[..r.find('<').unwrap()])
            .collect();
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            codes.len(),
            unique.len(),
            "{}: duplicate codes {codes:?}",
            m.name
        );
        // the protocol's own errors (bad signature, no User-Agent) are not repeated
        assert!(!codes.contains(&"412"), "{}: {codes:?}", m.name);
        let required = m.params.iter().any(|p| p.required) || m.user_auth == UserAuth::Required;
        assert_eq!(
            b.contains("<p>* required</p>"),
            required,
            "{}: legend",
            m.name
        );
    }
}

fn openapi_via(addr: &str, host: &str) -> serde_json::Value {
    let r = crate::helpers::raw(
        addr,
        format!("GET /openapi.json HTTP/1.1\r\nHost: {host}\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[test]
fn openapi_describes_security_tags_and_the_request_s_server() {
    let s = Server::start();
    // the server is the base URL the request used ...
    let doc = openapi_via(&s.addr, "docs.example.com:8123");
    assert_eq!(doc["servers"][0]["url"], "http://docs.example.com:8123");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for name in ["AppSignature", "UserToken", "OAuth1", "ApiKey"] {
        assert!(schemes.contains_key(name), "{name}");
    }
    assert_eq!(schemes["OAuth1"]["type"], "http");
    assert!(schemes["AppSignature"]["description"]
        .as_str()
        .unwrap()
        .contains("access_key"));
    // every operation's tag is declared, one per area
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tags.len() >= 6, "{tags:?}");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (verb, op) in item.as_object().unwrap() {
            if verb == "parameters" {
                continue;
            }
            for t in op["tags"].as_array().unwrap() {
                assert!(tags.contains(&t.as_str().unwrap()), "{verb} {path}: {t}");
            }
            assert!(op["security"].is_array(), "{verb} {path}: no security");
        }
    }
    let profile = &doc["paths"]["/v1.0/get-user-profile"]["post"]["security"];
    assert_eq!(
        profile[0],
        serde_json::json!({"AppSignature": [], "UserToken": []})
    );
    assert_eq!(profile[1], serde_json::json!({"OAuth1": []}));
    let host = &doc["paths"]["/v1.0/host-info"]["post"]["security"];
    assert_eq!(host[0], serde_json::json!({"AppSignature": []}));

    // ... unless server.public_url says otherwise
    let s = Server::start_with("[server]\npublic_url = \"https://api.example.com/\"\n");
    let doc = openapi_via(&s.addr, "docs.example.com:8123");
    assert_eq!(doc["servers"][0]["url"], "https://api.example.com");
}

/// Runs `collection` with newman (tests/browser/node_modules, installed by
/// scripts/test) on the given folders; returns newman's JSON report.
fn newman(
    collection: &std::path::Path,
    folders: &[&str],
    vars: &[(&str, &str)],
) -> serde_json::Value {
    let dir = env!("CARGO_MANIFEST_DIR");
    let report = collection.with_extension(format!("report-{}.json", folders.len()));
    let mut cmd =
        std::process::Command::new(format!("{dir}/tests/browser/node_modules/.bin/newman"));
    cmd.arg("run")
        .arg(collection)
        .arg("--insecure")
        .args(["--reporters", "json", "--reporter-json-export"])
        .arg(&report);
    for f in folders {
        cmd.args(["--folder", f]);
    }
    for (k, v) in vars {
        cmd.args(["--env-var", &format!("{k}={v}")]);
    }
    let out = cmd
        .output()
        .expect("newman runs (scripts/test installs it into tests/browser/node_modules)");
    let report: serde_json::Value = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("no newman report: {}", String::from_utf8_lossy(&out.stderr)));
    let failures = &report["run"]["failures"];
    assert!(
        out.status.success() && failures.as_array().is_some_and(|f| f.is_empty()),
        "newman failed on {folders:?}: {}",
        serde_json::to_string_pretty(failures).unwrap()
    );
    report
}

#[test]
fn the_postman_collection_is_served_and_newman_runs_it_as_app_and_user() {
    let (s, user) = server_with_token();
    let index = get(&s.addr, "/");
    assert!(
        index.body.contains("href=\"/v1.0/postman.json\""),
        "linked from the index"
    );
    for path in ["/postman.json", "/v1.0/postman.json"] {
        let r = get(&s.addr, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let text = get(&s.addr, "/v1.0/postman.json").body;
    let c: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vars: Vec<&str> = c["variable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    for v in [
        "base_url",
        "api_key",
        "api_secret",
        "auth_token",
        "token_secret",
    ] {
        assert!(vars.contains(&v), "variable {v}");
    }
    assert_eq!(
        c["variable"][0]["value"],
        s.base.as_str(),
        "calls the server it came from"
    );
    // one folder per area, every method of the version in one of them
    let folders: Vec<(String, Vec<String>)> = c["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let names = f["item"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect();
            (f["name"].as_str().unwrap().to_string(), names)
        })
        .collect();
    let v1 = panthera::protocol::version::Version::new(1, 0);
    let methods = panthera::methods::Registry::new().in_version(v1);
    let mut areas: Vec<&str> = methods.iter().map(|m| m.area.title()).collect();
    areas.dedup();
    // and the REST users API last, in its own folder
    areas.push("Users REST API (/v1/users)");
    assert_eq!(
        folders.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        areas
    );
    let in_folders: usize = folders.iter().map(|(_, n)| n.len()).sum();
    assert_eq!(
        in_folders,
        methods.len() + 5,
        "methods and REST requests in folders"
    );

    let file = tempfile::tempdir().unwrap();
    let path = file.path().join("panthera.postman_collection.json");
    std::fs::write(&path, &text).unwrap();
    let tls = s.tls_base.clone().unwrap();
    // the admin area with an admin key, everything else as the demo app and its user
    let admin = s.create_admin_key();
    let rest_token = crate::rest_users::rest_token(&s, &admin.api_key);
    let admin_folders: Vec<&str> = folders
        .iter()
        .filter(|(n, _)| n.starts_with("Accounts") || n.starts_with("Users REST"))
        .map(|(n, _)| n.as_str())
        .collect();
    let other: Vec<&str> = folders
        .iter()
        .filter(|(n, _)| !n.starts_with("Accounts") && !n.starts_with("Users REST"))
        .map(|(n, _)| n.as_str())
        .collect();
    let demo = s.demo.clone().unwrap();
    let mut ran: Vec<String> = Vec::new();
    for (folders, creds) in [(admin_folders, &admin), (other, &demo)] {
        let report = newman(
            &path,
            &folders,
            &[
                ("base_url", tls.as_str()),
                ("api_key", creds.api_key.as_str()),
                ("api_secret", creds.api_secret.as_str()),
                ("auth_token", user.auth_token.as_str()),
                ("token_secret", user.token_secret.as_str()),
                ("rest_token", rest_token.as_str()),
            ],
        );
        assert_eq!(report["run"]["stats"]["assertions"]["failed"], 0);
        for e in report["run"]["executions"].as_array().unwrap() {
            ran.push(e["item"]["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ran.len(), in_folders, "every request ran: {ran:?}");
    for m in [
        "host-info",
        "get-user-profile",
        "request-token",
        "get-users",
        "Create a user",
        "Delete a user",
    ] {
        assert!(ran.iter().any(|r| r == m), "{m} ran: {ran:?}");
    }
}

#[test]
fn favicon_is_served_and_pages_link_it() {
    let s = Server::start();
    let r = crate::helpers::raw(
        &s.addr,
        b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/x-icon"));
    for page in ["/", "/v1.0/host-info", "/guide/errors"] {
        assert!(
            get(&s.addr, page)
                .body
                .contains("<link rel=\"icon\" href=\"/favicon.ico\">"),
            "{page}"
        );
    }
}

#[test]
fn the_changelog_names_every_method_version_and_is_linked_from_the_index() {
    let s = Server::start();
    let index = get(&s.addr, "/");
    assert!(index.body.contains("href=\"/guide/changelog\""));
    let page = get(&s.addr, "/guide/changelog");
    assert_eq!(page.status, 200);
    let v1 = panthera::protocol::version::Version::new(1, 0);
    // a declaration that starts after 1.0 is a change some version made
    for m in panthera::methods::all().iter().filter(|m| m.since > v1) {
        let link = format!("href=\"/v{}/{}\"", m.since, m.name);
        assert!(page.body.contains(&link), "the changelog lacks {link}");
        assert!(
            page.body.contains(&format!("<h2>v{}</h2>", m.since)),
            "v{}",
            m.since
        );
    }
}

/// Every link of every docs page, followed from the index: all answer.
#[test]
fn every_internal_docs_link_answers() {
    let s = Server::start();
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec!["/".to_string()];
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let r = get(&s.addr, &path);
        // the account page answers a browser without a session with a redirect to sign in
        let ok = r.status == 200 || (path.starts_with("/account") && r.status / 100 == 3);
        assert!(ok, "{path}: {}", r.status);
        let html = r
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"));
        if !html || path.starts_with("/account") {
            continue;
        }
        for part in r
            .body
            .split(" href=\"")
            .skip(1)
            .chain(r.body.split(" src=\"").skip(1))
        {
            let link = &part[..part.find('"').unwrap()];
            let link = link.split('#').next().unwrap().replace("&amp;", "&");
            if link.starts_with('/') && !link.starts_with("//") && !seen.contains(&link) {
                queue.push(link);
            } else if !link.is_empty() && !link.contains(':') && !link.starts_with('/') {
                // relative to the page (index links like href="host-info")
                let base = &path[..path.rfind('/').unwrap() + 1];
                queue.push(format!("{base}{link}"));
            }
        }
    }
    assert!(seen.len() > 60, "crawled {}", seen.len());
    for must in [
        "/favicon.ico",
        "/openapi.json",
        "/v1.0/postman.json",
        "/guide/changelog",
    ] {
        assert!(seen.contains(must), "{must} is linked: {seen:?}");
    }
    // the search box's index: every method of the version and every guide
    let home = get(&s.addr, "/v1.2/");
    assert!(home
        .body
        .contains("data-index=\"/v1.2/assets/search-index.json\""));
    let r = get(&s.addr, "/v1.2/assets/search-index.json");
    assert_eq!(r.status, 200);
    let index: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let urls: Vec<&str> = index
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["u"].as_str().unwrap())
        .collect();
    let v12 = panthera::protocol::version::Version::new(1, 2);
    for m in panthera::methods::Registry::new().in_version(v12) {
        let u = format!("/v1.2/{}", m.name);
        assert!(urls.contains(&u.as_str()), "{u}");
    }
    for g in panthera::docs::guides::GUIDES {
        let u = format!("/guide/{}", g.stem);
        assert!(urls.contains(&u.as_str()), "{u}");
    }
}

/// The screenshots command's browser script, run on a fresh server: every
/// page it photographs passes axe, fits a 390 px phone, and the search box
/// finds a method.
#[test]
fn screenshots_pages_pass_axe_fit_a_phone_and_search_finds_methods() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("node")
        .arg(format!("{root}/tests/browser/screenshots.mjs"))
        .arg(&s.base)
        .arg(dir.path())
        .output()
        .expect("node runs (scripts/test installs node modules and chromium)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for p in v["pages"].as_array().unwrap() {
        assert_eq!(
            p["axe"],
            serde_json::json!([]),
            "accessibility violations on {}",
            p["path"]
        );
        let l = &p["layout"];
        assert!(
            l["scrollWidth"].as_i64().unwrap() <= l["clientWidth"].as_i64().unwrap(),
            "horizontal scroll on {} at {} px: {l}",
            p["path"],
            p["width"]
        );
        let file = dir.path().join(p["file"].as_str().unwrap());
        assert!(std::fs::metadata(&file).unwrap().len() > 1000, "{file:?}");
    }
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 6);
    // the samples stand beside the reference on a wide screen, below it on a phone
    let beside = |file: &str| {
        pages.iter().find(|p| p["file"] == file).unwrap()["layout"]["samplesBeside"].clone()
    };
    assert_eq!(beside("docs-method-wide.png"), true);
    assert_eq!(beside("docs-method.png"), false);
    assert_eq!(beside("docs-phone.png"), false);
    let hits = v["search"].as_array().unwrap();
    assert_eq!(hits[0], "/v1.0/get-user-profile", "{hits:?}");
}
