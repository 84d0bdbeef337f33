//! GET documentation pages (docs.md) for every registered method.

use crate::helpers::{get, Server};

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
