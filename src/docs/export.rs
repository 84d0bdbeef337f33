//! `panthera docs export`: the reference as Markdown, the OpenAPI document and
//! a Postman collection, written from the registry and fresh sample answers.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use super::code::{self, Lang};
use super::samples::Samples;
use crate::methods::fields::by_path;
use crate::methods::AppState;
use crate::methods::{Method, UserAuth, COMMON_ERRORS};
use crate::protocol::version::Version;

/// Writes `reference.md`, `openapi.json` and `postman_collection.json` into `dir`.
pub fn export(state: &AppState, samples: &Samples, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("reference.md", markdown(state, samples)),
        (
            "openapi.json",
            serde_json::to_string_pretty(&super::openapi::document(
                state,
                samples,
                &state.public_url(),
            ))
            .unwrap_or_default(),
        ),
        (
            "postman_collection.json",
            serde_json::to_string_pretty(&postman(
                state.versions.load().default,
                &state.public_url(),
            ))
            .unwrap_or_default(),
        ),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        // write-then-rename: an interrupted export never leaves half a file
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// The method reference as one Markdown document.
pub fn markdown(state: &AppState, samples: &Samples) -> String {
    let mut out = String::from("# Panthera API reference\n\nGenerated from the method registry by `panthera docs export`.\n");
    let version = state.versions.load().default;
    for m in state.registry.in_version(version) {
        let _ = write!(
            out,
            "\n## {}\n\n{}\n\n{}\n\n- Endpoint: `POST /v{version}/{}`\n- Since: {}\n- User authentication: {}\n- SSL: {}\n",
            m.name,
            m.summary,
            m.description,
            m.name,
            m.since,
            m.user_auth.as_str(),
            if m.ssl { "required" } else { "not required" }
        );
        if !m.params.is_empty() {
            out.push_str("\n| name | type | required | default | values | description |\n|---|---|---|---|---|---|\n");
            for p in m.params {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    p.name,
                    p.kind.name(),
                    if p.required { "yes" } else { "no" },
                    p.default.unwrap_or(""),
                    p.values.join(", "),
                    p.description.replace('|', "\\|")
                );
            }
        }
        out.push_str("\nAnswer:\n\n| element / attribute | type | meaning | when present |\n|---|---|---|---|\n");
        answer_rows(m, &mut out);
        out.push_str("\nErrors:\n\n");
        for e in m.errors.iter().chain(COMMON_ERRORS) {
            let _ = writeln!(out, "- `{}` {}", e.code, e.meaning);
        }
        let _ = write!(
            out,
            "\n```sh\n{}```\n",
            code::sample(Lang::Curl, m, version)
        );
        if let Some(s) = samples.get(m) {
            let _ = write!(
                out,
                "\nSample answer:\n\n```xml\n{}```\n\n```json\n{}\n```\n",
                s.xml, s.json
            );
        }
    }
    out
}

/// The answer table's rows: every field by path (`items/media/@id`).
fn answer_rows(m: &Method, out: &mut String) {
    for (path, f) in by_path(m.answer) {
        let _ = writeln!(
            out,
            "| `{path}` | {}{} | {} | {} |",
            f.ty.name(),
            if f.repeated { ", repeated" } else { "" },
            f.meaning.replace('|', "\\|"),
            f.presence().replace('|', "\\|")
        );
    }
}

/// The pre-request script of the collection: signs every call as the app
/// (`access_key`) and, when `auth_token` is set, as the user (`access_token`).
/// It runs in Postman's sandbox, where CryptoJS is available.
const POSTMAN_SIGN: &[&str] = &[
    "// Signs the call: access_key = hex(HMAC_algo(api_secret, timestamp + api_key + nonce)),",
    "// and, with a user token, access_token = hex(HMAC_algo(token_secret, timestamp + auth_token + nonce)).",
    "const hmacs = { sha1: CryptoJS.HmacSHA1, sha256: CryptoJS.HmacSHA256, sha512: CryptoJS.HmacSHA512 };",
    "const algo = pm.variables.get('algo') || 'sha1';",
    "const hmac = hmacs[algo] || CryptoJS.HmacSHA1;",
    "const ts = new Date().toUTCString().replace('GMT', 'UTC');",
    "const nonce = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);",
    "const apiKey = pm.variables.get('api_key') || '';",
    "const sign = (msg, secret) => hmac(msg, secret || '').toString(CryptoJS.enc.Hex);",
    "pm.variables.set('timestamp', ts);",
    "pm.variables.set('nonce', nonce);",
    "pm.variables.set('algo', algo);",
    "pm.variables.set('access_key', sign(ts + apiKey + nonce, pm.variables.get('api_secret')));",
    "const token = pm.variables.get('auth_token') || '';",
    "const form = pm.request.body && pm.request.body.urlencoded;",
    "if (token) {",
    "  pm.variables.set('access_token', sign(ts + token + nonce, pm.variables.get('token_secret')));",
    "} else if (form) {",
    "  // no user token: the call acts for the key's owner (or is refused where a user is required)",
    "  form.remove((p) => p.key === 'auth_token' || p.key === 'access_token');",
    "}",
];

/// The test script of the collection: each answer is a success.
const POSTMAN_TEST: &[&str] = &[
    "// the REST users API answers in its own shape: its requests test themselves",
    "if (!pm.request.headers.has('X-API-Key')) {",
    "  pm.test('answers stat=ok', () => {",
    "    pm.response.to.have.status(200);",
    "    pm.expect(pm.response.text()).to.match(/<rsp stat=\"ok\">|\"stat\":\"ok\"/);",
    "  });",
    "}",
];

/// The folder of the REST users API (`/v1/users`, seed 000), authenticated
/// by the `rest_token` variable (`panthera keys rest-token KEY`): list,
/// create (keeping the new id in `rest_user_id`), read, change, delete.
const REST_FOLDER: &str = "Users REST API (/v1/users)";

fn rest_users_folder() -> Value {
    let request =
        |name: &str, verb: &str, path: &str, body: Option<&str>, status: u16, extra: &str| {
            let mut req = json!({
                "method": verb,
                "header": [
                    {"key": "X-API-Key", "value": "{{rest_token}}"},
                    {"key": "Accept", "value": "application/json"}
                ],
                "url": format!("{{{{base_url}}}}{path}"),
            });
            if let Some(b) = body {
                if let Some(h) = req["header"].as_array_mut() {
                    h.push(json!({"key": "Content-Type", "value": "application/json"}));
                }
                req["body"] = json!({"mode": "raw", "raw": b});
            }
            let test = format!(
                "pm.test('answers {status}', () => pm.response.to.have.status({status}));\n{extra}"
            );
            json!({
                "name": name,
                "request": req,
                "event": [{"listen": "test", "script": {"type": "text/javascript",
                           "exec": test.lines().collect::<Vec<_>>()}}]
            })
        };
    json!({
        "name": REST_FOLDER,
        "description": "The user administration API of seed 000: JSON bodies, the X-API-Key header \
    (set the variable rest_token to a token from `panthera keys rest-token KEY` of an admin key).",
        "item": [
            request("List users", "GET", "/v1/users?limit=5&status=active", None, 200,
                "pm.test('a page', () => pm.expect(pm.response.json().data).to.be.an('array'));"),
            request("Create a user", "POST", "/v1/users",
                Some(r#"{"username": "postman{{$timestamp}}", "email": "postman{{$timestamp}}@example.com", "first_name": "Post", "last_name": "Man"}"#),
                201, "pm.collectionVariables.set('rest_user_id', pm.response.json().id);"),
            request("Get a user", "GET", "/v1/users/{{rest_user_id}}", None, 200, ""),
            request("Update a user", "PUT", "/v1/users/{{rest_user_id}}",
                Some(r#"{"first_name": "Postwoman"}"#), 200,
                "pm.test('changed', () => pm.expect(pm.response.json().first_name).to.eql('Postwoman'));"),
            request("Delete a user", "DELETE", "/v1/users/{{rest_user_id}}", None, 204, ""),
        ]
    })
}

/// A Postman v2.1 collection of the methods of `version`, one folder per
/// area, calling `base`: set the variables `api_key` and `api_secret` (and
/// `auth_token`, `token_secret` for user methods); the pre-request script
/// signs every call.
pub fn postman(version: Version, base: &str) -> Value {
    // In declaration order, where a sample may rely on an earlier one (an
    // account created before it is shown, changed and deleted), as the
    // sample answers are made; folders in the order of the method list.
    let mut methods: Vec<&Method> = crate::methods::all()
        .iter()
        .filter(|m| m.serves(version))
        .collect();
    methods.sort_by_key(|m| m.area);
    let mut folders: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in methods {
        let mut form = vec![
            json!({"key": "api_key", "value": "{{api_key}}"}),
            json!({"key": "access_key", "value": "{{access_key}}"}),
            json!({"key": "timestamp", "value": "{{timestamp}}"}),
            json!({"key": "nonce", "value": "{{nonce}}"}),
            json!({"key": "algo", "value": "{{algo}}"}),
        ];
        if m.user_auth != UserAuth::No {
            form.push(json!({"key": "auth_token", "value": "{{auth_token}}",
                "description": "The user token (collection variable auth_token)."}));
            form.push(json!({"key": "access_token", "value": "{{access_token}}",
                "description": "Made by the pre-request script from token_secret."}));
        }
        let sample = m.sample_params();
        form.extend(m.params.iter().map(|p| {
            let value = sample
                .iter()
                .find(|(k, _)| *k == p.name)
                .map(|(_, v)| v.as_str())
                .or(p.default)
                .unwrap_or("");
            json!({"key": p.name, "value": value, "disabled": !p.required && value.is_empty(),
                   "description": p.description})
        }));
        let description = format!(
            "{}\n\nUser authentication: {}. Documentation: {base}/v{version}/{}",
            m.summary,
            m.user_auth.as_str(),
            m.name
        );
        let item = json!({
            "name": m.name,
            "request": {
                "method": "POST",
                "header": [],
                "body": {"mode": "urlencoded", "urlencoded": form},
                "url": {"raw": format!("{{{{base_url}}}}/v{version}/{}", m.name),
                        "host": ["{{base_url}}"], "path": [format!("v{version}"), m.name]},
                "description": description
            }
        });
        let area = m.area.title();
        match folders.iter_mut().find(|(a, _)| *a == area) {
            Some((_, items)) => items.push(item),
            None => folders.push((area, vec![item])),
        }
    }
    let mut items: Vec<Value> = folders
        .into_iter()
        .map(|(name, item)| json!({"name": name, "item": item}))
        .collect();
    items.push(rest_users_folder());
    json!({
        "info": {
            "name": format!("Panthera API v{version}"),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            "description": format!("Set the collection variables api_key and api_secret (and auth_token and \
    token_secret for the methods that act for a user); the pre-request script signs every request. \
    Documentation: {base}/v{version}/")
        },
        "event": [
            {"listen": "prerequest", "script": {"type": "text/javascript", "exec": POSTMAN_SIGN}},
            {"listen": "test", "script": {"type": "text/javascript", "exec": POSTMAN_TEST}}
        ],
        "variable": [
            {"key": "base_url", "value": base},
            {"key": "api_key", "value": ""},
            {"key": "api_secret", "value": ""},
            {"key": "auth_token", "value": ""},
            {"key": "token_secret", "value": ""},
            {"key": "rest_token", "value": ""},
            {"key": "rest_user_id", "value": ""},
            {"key": "algo", "value": "sha1"}
        ],
        "item": items
    })
}
