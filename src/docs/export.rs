//! `panthera docs export`: the reference as Markdown, the OpenAPI document and
//! a Postman collection, written from the registry and fresh sample answers.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use super::code::{self, Lang};
use super::samples::Samples;
use crate::methods::AppState;
use crate::methods::COMMON_ERRORS;

/// Writes `reference.md`, `openapi.json` and `postman_collection.json` into `dir`.
pub fn export(state: &AppState, samples: &Samples, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("reference.md", markdown(state, samples)),
        (
            "openapi.json",
            serde_json::to_string_pretty(&super::openapi::document(state, samples))
                .unwrap_or_default(),
        ),
        (
            "postman_collection.json",
            serde_json::to_string_pretty(&postman(state)).unwrap_or_default(),
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

/// A Postman v2.1 collection; a pre-request script signs every call with the
/// collection variables `api_key` and `api_secret`.
pub fn postman(state: &AppState) -> Value {
    let version = state.versions.load().default;
    let items: Vec<Value> = state
        .registry
        .in_version(version)
        .into_iter()
        .map(|m| {
            let mut form = vec![
                json!({"key": "api_key", "value": "{{api_key}}"}),
                json!({"key": "access_key", "value": "{{access_key}}"}),
                json!({"key": "timestamp", "value": "{{timestamp}}"}),
                json!({"key": "nonce", "value": "{{nonce}}"}),
            ];
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
            json!({
                "name": m.name,
                "request": {
                    "method": "POST",
                    "header": [],
                    "body": {"mode": "urlencoded", "urlencoded": form},
                    "url": {"raw": format!("{{{{base_url}}}}/v{version}/{}", m.name),
                            "host": ["{{base_url}}"], "path": [format!("v{version}"), m.name]},
                    "description": m.summary
                }
            })
        })
        .collect();
    let script = [
        "const ts = new Date().toUTCString();",
        "const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);",
        "const key = pm.collectionVariables.get('api_key');",
        "const sig = CryptoJS.HmacSHA1(ts + key + nonce, pm.collectionVariables.get('api_secret')).toString(CryptoJS.enc.Hex);",
        "pm.collectionVariables.set('timestamp', ts);",
        "pm.collectionVariables.set('nonce', nonce);",
        "pm.collectionVariables.set('access_key', sig);",
    ];
    json!({
        "info": {
            "name": "Panthera API",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            "description": "Set api_key and api_secret; every request is signed by the pre-request script."
        },
        "event": [{"listen": "prerequest", "script": {"type": "text/javascript", "exec": script}}],
        "variable": [
            {"key": "base_url", "value": state.public_url()},
            {"key": "api_key", "value": ""},
            {"key": "api_secret", "value": ""}
        ],
        "item": items
    })
}
