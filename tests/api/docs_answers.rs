//! The answer fields of the registry (issue 16): every method's sample
//! answer, made by running the sample, matches the JSON schema OpenAPI
//! declares for it from the method's `answer` fields, and those schemas
//! refuse a key that is not declared — so no answer can carry an
//! undocumented field. The method pages show the same fields as a table.

use panthera::methods::{all, Field};

use crate::helpers::{get, Server};

/// Runs `tests/docs/validate_answers.py` on these answers.
fn validate(openapi: &str, answers: &serde_json::Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), openapi).unwrap();
    std::fs::write(dir.path().join("answers.json"), answers.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(format!(
            "{}/tests/docs/validate_answers.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(dir.path().join("openapi.json"))
        .arg(dir.path().join("answers.json"))
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The sample answer of every declaration, as the OpenAPI document and the
/// method pages carry it (the docs run each sample on a fresh demo).
fn sample_answers(doc: &serde_json::Value) -> serde_json::Value {
    let mut answers = Vec::new();
    for m in all() {
        let path = format!("/v{}/{}", m.since, m.name);
        let example = &doc["paths"][&path]["post"]["responses"]["200"]["content"]
            ["application/json"]["example"];
        assert!(example.is_object(), "{path}: no sample answer");
        answers.push(serde_json::json!({"path": path, "body": example}));
    }
    serde_json::Value::Array(answers)
}

#[test]
fn every_sample_answer_matches_its_declared_fields_and_nothing_else() {
    let s = Server::start();
    let doc = get(&s.addr, "/openapi.json");
    assert_eq!(doc.status, 200);
    let v: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    let answers = sample_answers(&v);
    let (ok, out) = validate(&doc.body, &answers);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{} answers valid", all().len())),
        "{out}"
    );

    // The check can fail: a sample answer with a key no declaration has.
    let mut extra = answers.clone();
    extra[0]["body"]["undeclared"] = serde_json::json!("x");
    let (ok, out) = validate(&doc.body, &extra);
    assert!(!ok && out.contains("undeclared"), "{out}");
}

/// Every field as `path`, e.g. `items/media/@id`.
fn paths(fields: &[Field], prefix: &str, out: &mut Vec<String>) {
    for f in fields {
        let p = if f.attribute {
            format!("{prefix}@{}", f.name)
        } else {
            format!("{prefix}{}", f.name)
        };
        out.push(p.clone());
        paths(f.fields, &format!("{p}/"), out);
    }
}

#[test]
fn method_pages_show_the_answer_table() {
    let s = Server::start();
    for m in all() {
        let page = get(&s.addr, &format!("/v{}/{}", m.since, m.name));
        assert_eq!(page.status, 200, "{}", m.name);
        assert!(
            page.body.contains("id=\"answer\""),
            "{}: no Answer section",
            m.name
        );
        let mut expected = Vec::new();
        paths(m.answer, "", &mut expected);
        for p in expected {
            assert!(
                page.body.contains(&format!("<code>{p}</code>")),
                "{}: the answer table lacks {p}",
                m.name
            );
        }
    }
    // search documents its <items> and <media> attributes, extra_info included
    let page = get(&s.addr, "/v1.2/search");
    for p in [
        "items/@total",
        "items/@items",
        "items/media/@id",
        "items/media/@thumb",
        "items/media/@author-username",
        "items/media/@people_ethnicity",
    ] {
        assert!(
            page.body.contains(&format!("<code>{p}</code>")),
            "search lacks {p}"
        );
    }
}
