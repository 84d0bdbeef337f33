//! The REST users API of seed 000 (`/v1/users`) over real HTTP: each of the
//! seed's curl examples replayed with real `curl` (host, key and the
//! example's user id replaced), and the `X-API-Key` rules: 401/403 JSON,
//! HTTPS only when HTTPS is available, the failed-auth throttle, one audit
//! trail with the signed methods.

use std::process::Command;

use serde_json::Value;

use crate::helpers::Server;

/// Issues a REST token for `api_key` with the CLI.
pub fn rest_token(s: &Server, api_key: &str) -> String {
    let out = s.cli(&["keys", "rest-token", api_key, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["rest_token"].as_str().expect("rest_token").to_string()
}

/// The seed's examples, verbatim (section 4 of its user-management API).
const SEED_LIST: &str = "curl -X GET \\
'https://api.pantherahive.com/v1/users?limit=5&status=active' \\
-H 'Accept: application/json' \\
-H 'X-API-Key: YOUR_SECURE_API_KEY_HERE'";
const SEED_GET: &str = "curl -X GET \\
'https://api.pantherahive.com/v1/users/usr_123abc' \\
-H 'Accept: application/json' \\
-H 'X-API-Key: YOUR_SECURE_API_KEY_HERE'";
const SEED_CREATE: &str = "curl -X POST \\
'https://api.pantherahive.com/v1/users' \\
-H 'Content-Type: application/json' \\
-H 'Accept: application/json' \\
-H 'X-API-Key: YOUR_SECURE_API_KEY_HERE' \\
-d '{
\"username\": \"newuser\",
\"email\": \"new.user@example.com\",
\"status\": \"active\"
}'";
const SEED_UPDATE: &str = "curl -X PUT \\
'https://api.pantherahive.com/v1/users/usr_123abc' \\
-H 'Content-Type: application/json' \\
-H 'Accept: application/json' \\
-H 'X-API-Key: YOUR_SECURE_API_KEY_HERE' \\
-d '{
\"status\": \"inactive\"
}'";
const SEED_DELETE: &str = "curl -X DELETE \\
'https://api.pantherahive.com/v1/users/usr_123abc' \\
-H 'Accept: application/json' \\
-H 'X-API-Key: YOUR_SECURE_API_KEY_HERE'";

/// One answer of curl: status, headers (lowercase names), body.
struct Curled {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Curled {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Runs a seed example through `sh` with real curl: the seed's host becomes
/// `base`, its key `key`, its example id `id`; `-sS -i` only make the
/// answer readable.
fn replay(example: &str, base: &str, key: &str, id: &str) -> Curled {
    let cmd = example
        .replace("https://api.pantherahive.com", base)
        .replace("YOUR_SECURE_API_KEY_HERE", key)
        .replace("usr_123abc", id)
        .replacen("curl ", "curl -sS -i ", 1);
    let out = Command::new("sh")
        .args(["-c", &cmd])
        .output()
        .expect("run curl (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8_lossy(&out.stdout))
}

fn parse(text: &str) -> Curled {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Curled {
        status,
        headers,
        body: body.to_string(),
    }
}

fn is_iso(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z')
}

#[test]
fn the_seed_curl_examples_work_as_written() {
    let s = Server::start();
    let admin = s.create_admin_key();
    let key = rest_token(&s, &admin.api_key);
    let base = s.base.as_str();

    // 4.3 create: 201, the example's fields, ISO times, Location
    let created = replay(SEED_CREATE, base, &key, "");
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let u = created.json();
    assert_eq!(
        (&u["username"], &u["email"], &u["status"]),
        (
            &Value::from("newuser"),
            &Value::from("new.user@example.com"),
            &Value::from("active")
        )
    );
    let id = u["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("usr_"));
    assert!(is_iso(&u["created_at"]) && is_iso(&u["updated_at"]), "{u}");
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/v1/users/{id}").as_str())
    );
    assert!(created.header("x-ratelimit-limit").is_some());
    assert!(created.header("x-ratelimit-remaining").is_some());
    assert!(created.header("x-ratelimit-reset").is_some());
    // 4.3.4: the same again is the seed's 409
    let again = replay(SEED_CREATE, base, &key, "");
    assert_eq!(again.status, 409);
    assert_eq!(
        again.json(),
        serde_json::json!({"code": "CONFLICT",
            "message": "User with email 'new.user@example.com' already exists."})
    );

    // 4.1 list: the page shape, the status filter, limit and offset
    let list = replay(SEED_LIST, base, &key, "");
    assert_eq!(list.status, 200, "{}", list.body);
    let page = list.json();
    assert_eq!((&page["limit"], &page["offset"]), (&5.into(), &0.into()));
    let data = page["data"].as_array().expect("data");
    assert!(!data.is_empty() && data.len() <= 5);
    assert!(data.iter().all(|u| u["status"] == "active"));
    assert!(page["total"].as_u64().expect("total") >= data.len() as u64);
    assert!(data.iter().any(|u| u["id"] == id.as_str()));

    // 4.2 get, 4.4 update, 4.5 delete, on the user just created
    let got = replay(SEED_GET, base, &key, &id);
    assert_eq!((got.status, got.json()), (200, u.clone()));
    let put = replay(SEED_UPDATE, base, &key, &id);
    assert_eq!(put.status, 200, "{}", put.body);
    let changed = put.json();
    assert_eq!(changed["status"], "inactive");
    assert_eq!(
        changed["username"], "newuser",
        "PUT changes only the fields given"
    );
    let deleted = replay(SEED_DELETE, base, &key, &id);
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));

    // 4.2.4 / 4.5.4: the seed's 404, to the letter
    for example in [SEED_GET, SEED_DELETE] {
        let missing = replay(example, base, &key, "usr_nonexistent");
        assert_eq!(missing.status, 404);
        assert_eq!(
            missing.json(),
            serde_json::json!({"code": "NOT_FOUND",
                "message": "User with ID 'usr_nonexistent' not found."})
        );
    }

    // one audit trail: the REST changes are the signed methods' rows
    let audit = s.cli(&["audit", "--json"]);
    let trail = String::from_utf8_lossy(&audit.stdout);
    for action in ["create-user", "update-user", "delete-user"] {
        assert!(
            trail.contains(action) && trail.contains(&admin.api_key),
            "{trail}"
        );
    }
}

/// curl with the given extra arguments (after `-sS -i`).
fn curl(args: &[&str]) -> Curled {
    let out = Command::new("curl")
        .args(["-sS", "-i"])
        .args(args)
        .output()
        .expect("run curl");
    parse(&String::from_utf8_lossy(&out.stdout))
}

#[test]
fn keys_verbs_bodies_and_idempotency() {
    let s = Server::start();
    let admin = s.create_admin_key();
    let key = rest_token(&s, &admin.api_key);
    let app_key = rest_token(&s, &s.demo.clone().expect("demo").api_key);
    let users = format!("{}/v1/users", s.base);
    let h = |k: &str| format!("X-API-Key: {k}");

    let missing = curl(&[&users]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["code"], "UNAUTHORIZED");
    let wrong = curl(&["-H", &h("pnt_0000"), &users]);
    assert_eq!(
        (wrong.status, wrong.json()["code"].clone()),
        (401, "UNAUTHORIZED".into())
    );
    let app = curl(&["-H", &h(&app_key), &users]);
    assert_eq!(
        (app.status, app.json()["code"].clone()),
        (403, "FORBIDDEN".into())
    );
    // the api secret or the api key itself are no REST tokens
    let signed_key = curl(&["-H", &h(&admin.api_key), &users]);
    assert_eq!(signed_key.status, 401);

    let patch = curl(&["-X", "PATCH", "-H", &h(&key), &users]);
    assert_eq!(patch.status, 405);
    assert_eq!(patch.header("allow"), Some("GET, POST"));
    assert_eq!(patch.json()["code"], "METHOD_NOT_ALLOWED");
    let item = format!("{users}/usr_00000000000a11ce");
    let post_item = curl(&["-X", "POST", "-H", &h(&key), &item]);
    assert_eq!(
        (post_item.status, post_item.header("allow")),
        (405, Some("GET, PUT, DELETE"))
    );

    let bad_json = curl(&["-X", "POST", "-H", &h(&key), "-d", "{nope", &users]);
    assert_eq!(
        (bad_json.status, bad_json.json()["code"].clone()),
        (400, "BAD_REQUEST".into())
    );
    let ct = "Content-Type: application/json";
    let invalid = curl(&[
        "-X",
        "POST",
        "-H",
        &h(&key),
        "-H",
        ct,
        "-d",
        r#"{"username":"okname","email":"x@example.com","status":"gone"}"#,
        &users,
    ]);
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.json()["code"], "VALIDATION_ERROR");
    assert!(invalid.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("status"));
    let names = curl(&[
        "-X",
        "POST",
        "-H",
        &h(&key),
        "-H",
        ct,
        "-d",
        r#"{"username":"okname","email":"x@example.com","first_name":"x","firstname":"y"}"#,
        &users,
    ]);
    assert_eq!(names.status, 422, "unknown fields are refused");
    let limit = curl(&["-H", &h(&key), &format!("{users}?limit=0")]);
    assert_eq!(limit.json()["code"], "VALIDATION_ERROR");

    // Idempotency-Key: a retry answers the first outcome and creates nothing
    let body = r#"{"username":"idem.user","email":"idem@example.com","first_name":"Idem","last_name":"Potent"}"#;
    let post = |k: &str| {
        curl(&[
            "-X",
            "POST",
            "-H",
            &h(&key),
            "-H",
            ct,
            "-H",
            &format!("Idempotency-Key: {k}"),
            "-d",
            body,
            &users,
        ])
    };
    let first = post("order-1");
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = post("order-1");
    assert_eq!((retry.status, retry.json()), (201, first.json()));
    assert_eq!(post("order-2").status, 409, "a new key runs again");
    assert_eq!(first.json()["first_name"], "Idem");
    assert_eq!(first.json()["last_name"], "Potent");
    // the same account through the signed face
    let (status, v) = {
        let r = s
            .admin()
            .call(
                None,
                "get-user",
                &[
                    ("id", first.json()["id"].as_str().unwrap_or_default()),
                    ("content_type", "application/json"),
                ],
            )
            .expect("reachable");
        (
            r.status,
            serde_json::from_str::<Value>(&r.body).expect("json"),
        )
    };
    assert_eq!(status, 200);
    assert_eq!(v["user"]["surname"], "Potent");

    // PUT: partial, null clears a name, read-only fields are ignored
    let id_url = format!(
        "{users}/{}",
        first.json()["id"].as_str().unwrap_or_default()
    );
    let put = curl(&[
        "-X",
        "PUT",
        "-H",
        &h(&key),
        "-H",
        ct,
        "-d",
        r#"{"last_name":null,"id":"usr_other","created_at":"x"}"#,
        &id_url,
    ]);
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        (&put.json()["last_name"], &put.json()["first_name"]),
        (&Value::from(""), &Value::from("Idem"))
    );
}

#[test]
fn tokens_are_https_only_when_https_is_available_and_failures_are_throttled() {
    let s = Server::start_tls_with(
        "[rate_limits.failed_auth_per_address]\nburst = 3\nper_second = 0.01\n",
    );
    let admin = s.create_admin_key();
    let key = rest_token(&s, &admin.api_key);
    let tls = s.tls_base.clone().expect("tls");
    let cert = s.dir.join("tls").join("cert.pem");
    let cacert = cert.to_str().expect("path");
    let h = format!("X-API-Key: {key}");
    let plain = curl(&["-H", &h, &format!("{}/v1/users", s.base)]);
    assert_eq!(plain.status, 403);
    assert_eq!(plain.json()["code"], "FORBIDDEN");
    assert!(plain.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains(&format!("{tls}/v1/users")));
    let secure = curl(&["--cacert", cacert, "-H", &h, &format!("{tls}/v1/users")]);
    assert_eq!(secure.status, 200, "{}", secure.body);

    // wrong tokens count against the address like wrong signatures
    let wrong = |k: &str| {
        curl(&[
            "--cacert",
            cacert,
            "-H",
            &format!("X-API-Key: {k}"),
            &format!("{tls}/v1/users"),
        ])
    };
    for _ in 0..3 {
        assert_eq!(wrong("pnt_guess").status, 401);
    }
    let throttled = wrong("pnt_guess");
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.json()["code"], "TOO_MANY_REQUESTS");
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(wrong(&key).status, 429, "even the right token, from there");

    // a reissued token replaces the old one; a revoked one is refused
    let again = rest_token(&s, &admin.api_key);
    assert_ne!(again, key);
    let out = s.cli(&["keys", "rest-token", &admin.api_key, "--revoke"]);
    assert!(out.status.success());
}

/// The fenced blocks of `lang` in a guide.
fn blocks<'a>(markdown: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    markdown
        .split(fence.as_str())
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

#[test]
fn the_guide_samples_run_and_real_answers_match_the_openapi() {
    let s = Server::start();
    let admin = s.create_admin_key();
    let key = rest_token(&s, &admin.api_key);
    let root = env!("CARGO_MANIFEST_DIR");
    let guide = std::fs::read_to_string(format!("{root}/docs/guides/users-api.md")).expect("guide");
    let tmp = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(
        format!("{root}/clients/js"),
        tmp.path().join("panthera-client"),
    )
    .expect("link the JS SDK");
    for (lang, program) in [("sh", "sh"), ("python", "python3"), ("js", "node")] {
        let samples = blocks(&guide, lang);
        assert!(!samples.is_empty(), "a {lang} sample");
        for code in samples {
            let flag = if program == "node" { "-e" } else { "-c" };
            let out = Command::new(program)
                .args([flag, code])
                .env("PANTHERA_URL", &s.base)
                .env("PANTHERA_REST_TOKEN", &key)
                .env("PYTHONPATH", format!("{root}/clients/python"))
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("NODE_PATH", tmp.path())
                .output()
                .expect("run the sample");
            assert!(
                out.status.success(),
                "{lang}: {code}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // real answers against the OpenAPI schemas of the REST paths
    let h = format!("X-API-Key: {key}");
    let users = format!("{}/v1/users", s.base);
    let created = curl(&[
        "-X",
        "POST",
        "-H",
        &h,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"username":"schema.user","email":"schema@example.com"}"#,
        &users,
    ]);
    let id = created.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let item = format!("{users}/{id}");
    let answers = [
        ("/v1/users", "post", created),
        ("/v1/users", "get", curl(&["-H", &h, &users])),
        ("/v1/users/{id}", "get", curl(&["-H", &h, &item])),
        ("/v1/users/{id}", "get", curl(&["-H", &h, &format!("{users}/usr_nope")])),
        ("/v1/users", "get", curl(&[&users])),
    ]
    .into_iter()
    .map(|(path, verb, r)| {
        serde_json::json!({"path": path, "verb": verb, "status": r.status, "body": r.json()})
    })
    .collect::<Vec<_>>();
    let doc = crate::helpers::get(&s.addr, "/openapi.json");
    let v: Value = serde_json::from_str(&doc.body).expect("openapi");
    assert_eq!(
        v["components"]["securitySchemes"]["ApiKey"]["name"],
        "X-API-Key"
    );
    assert_eq!(
        v["paths"]["/v1/users"]["get"]["security"][0]["ApiKey"],
        serde_json::json!([])
    );
    std::fs::write(tmp.path().join("openapi.json"), &doc.body).expect("write");
    std::fs::write(
        tmp.path().join("answers.json"),
        serde_json::to_string(&answers).expect("json"),
    )
    .expect("write");
    let out = Command::new("python3")
        .arg(format!("{root}/tests/docs/validate_openapi.py"))
        .arg(tmp.path().join("openapi.json"))
        .arg(tmp.path().join("answers.json"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
