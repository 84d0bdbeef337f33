//! The answer fields of the registry (issue 16): every method's sample
//! answer, made by running the sample, matches the JSON schema OpenAPI
//! declares for it from the method's `answer` fields, and those schemas
//! refuse a key that is not declared — so no answer can carry an
//! undocumented field. The method pages show the same fields as a table.

use panthera::methods::all;
use panthera::methods::fields::by_path;

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

/// A call: version, method, parameters.
type Call<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

#[test]
fn real_answers_with_every_optional_field_match_the_declared_fields() {
    let s = Server::start();
    let doc = get(&s.addr, "/openapi.json");
    let extra_all = panthera::media::query::EXTRA_INFO.join(",");
    let calls: Vec<Call<'_>> = vec![
        (
            "1.0",
            "search",
            vec![("q", "cat"), ("limit", "3"), ("extra_info", &extra_all)],
        ),
        (
            "1.2",
            "search",
            vec![("q", "nothingmatchesthis"), ("limit", "3")],
        ),
        (
            "1.0",
            "search-similar",
            vec![
                ("id_media", "1"),
                ("limit", "2"),
                ("extra_info", &extra_all),
            ],
        ),
        ("1.0", "get-search-filter", vec![("lang", "en")]),
        (
            "1.0",
            "get-media-info",
            vec![
                ("id_media", "1,2"),
                ("show_articles", "yes"),
                ("show_top10_keywords", "yes"),
            ],
        ),
        ("1.0", "get-media-info", vec![("id_media", "3")]),
        (
            "1.2",
            "poll",
            vec![
                ("type", "deleted"),
                ("last_polling", "Thu, 01 Jan 2015 00:00:00 UTC"),
            ],
        ),
        (
            "1.1",
            "poll",
            vec![("type", "new"), ("last_polling", "1"), ("limit", "2")],
        ),
        (
            "1.0",
            "download-media",
            vec![("id_media", "1"), ("id_article", "1"), ("test", "yes")],
        ),
        (
            "1.0",
            "download-media",
            vec![("id_media", "3"), ("id_article", "2,101")],
        ),
        (
            "1.0",
            "download-image",
            vec![("id_media", "2"), ("id_article", "1"), ("test", "yes")],
        ),
        (
            "1.0",
            "get-downloaded-images",
            vec![
                ("extra_info", "width,height,mimetype,date,ref,state"),
                ("license_info", "yes"),
            ],
        ),
        ("1.0", "get-user-deposit", vec![]),
        ("1.0", "get-method-info", vec![("method", "search")]),
        ("1.1", "get-method-info", vec![("method", "create-user")]),
    ];
    let reg = panthera::methods::Registry::new();
    let mut answers = Vec::new();
    for (version, name, mut params) in calls {
        params.push(("content_type", "application/json"));
        let r = s.client().call(Some(version), name, &params).unwrap();
        assert_eq!(r.status, 200, "{name} v{version}: {}", r.body);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let decl = match reg.lookup(name, version.parse().unwrap()) {
            panthera::methods::Lookup::Found(m) => m,
            _ => panic!("{name} not in {version}"),
        };
        let path = format!("/v{}/{}", decl.since, name);
        answers.push(serde_json::json!({"path": path, "body": body}));
    }
    let (ok, out) = validate(&doc.body, &serde_json::Value::Array(answers));
    assert!(ok, "{out}");
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
        for (p, _) in by_path(m.answer) {
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

/// `get-method-info` reports the same answer fields as the page: every path,
/// with its type and when it is present.
#[test]
fn get_method_info_reports_every_answer_field() {
    let s = Server::start();
    for m in all() {
        let r = s
            .client()
            .call(
                Some(&m.since.to_string()),
                "get-method-info",
                &[("method", m.name), ("content_type", "application/json")],
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}: {}", m.name, r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let fields = match &v["method"]["answer"]["field"] {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Null => vec![],
            one => vec![one.clone()],
        };
        let declared = by_path(m.answer);
        assert_eq!(fields.len(), declared.len(), "{}: {v}", m.name);
        for ((path, f), got) in declared.iter().zip(&fields) {
            assert_eq!(got["path"], path.as_str(), "{}", m.name);
            assert_eq!(got["type"], f.ty.name(), "{} {path}", m.name);
            assert_eq!(got["present"], f.presence(), "{} {path}", m.name);
            assert_eq!(got["_content"], f.meaning, "{} {path}", m.name);
        }
    }
}
