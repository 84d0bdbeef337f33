//! The service methods (methods.md §A) over real HTTP.

use crate::helpers::Server;

fn json(s: &Server, method: &str, params: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut p = params.to_vec();
    p.push(("content_type", "application/json"));
    let r = s.client().call(None, method, &p).unwrap();
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body)),
    )
}

#[test]
fn host_info_describes_the_server_and_the_caller() {
    let s = Server::start();
    let (status, v) = json(&s, "host-info", &[]);
    assert_eq!(status, 200);
    assert_eq!(v["host"]["name"], "Panthera");
    assert_eq!(v["host"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["host"]["timestamp_tolerance"], "300");
    assert_eq!(
        v["host"]["algos"]["algo"],
        serde_json::json!(["sha1", "sha256", "sha512"])
    );
    let versions = v["host"]["api_versions"]["version"].as_array().unwrap();
    assert_eq!(versions[0]["id"], "1.0");
    assert_eq!(versions[0]["state"], "current");
    let t =
        panthera::protocol::timestamp::Timestamp::parse(v["host"]["server_time"].as_str().unwrap())
            .unwrap();
    assert!((t.unix() - panthera::store::now_unix()).abs() < 5);
    assert_eq!(v["app"]["name"], "demo app");
}

#[test]
fn content_languages() {
    let s = Server::start();
    let r = s
        .client()
        .call(None, "get-user-content-langs", &[])
        .unwrap();
    assert_eq!(r.status, 200);
    for id in ["da", "de", "en", "es", "it", "pl", "pt"] {
        assert!(
            r.body.contains(&format!("<lang id=\"{id}\" name=")),
            "{id}: {}",
            r.body
        );
    }
}

#[test]
fn method_list_and_info_agree_with_each_other() {
    let s = Server::start();
    let (status, v) = json(&s, "get-method-list", &[]);
    assert_eq!(status, 200);
    let methods = v["methods"]["method"].as_array().unwrap();
    let names: Vec<&str> = methods
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for n in [
        "host-info",
        "get-user-content-langs",
        "get-method-list",
        "get-method-info",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    for name in names {
        let (status, info) = json(&s, "get-method-info", &[("method", name)]);
        assert_eq!(status, 200, "{name}");
        assert_eq!(info["method"]["name"], name);
        assert!(!info["method"]["summary"].as_str().unwrap().is_empty());
    }
    let (_, info) = json(&s, "get-method-info", &[("method", "get-method-info")]);
    let param = &info["method"]["params"]["param"];
    assert_eq!(param["name"], "method");
    assert_eq!(param["required"], "yes");
    let (status, err) = json(&s, "get-method-info", &[("method", "nope")]);
    assert_eq!(status, 404);
    assert_eq!(err["err"]["code"], 404);
}

#[test]
fn xml_answers_are_well_formed() {
    let s = Server::start();
    for m in ["host-info", "get-user-content-langs", "get-method-list"] {
        let r = s.client().call(None, m, &[]).unwrap();
        let mut reader = quick_xml::Reader::from_str(&r.body);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{m}: {e}: {}", r.body),
            }
        }
    }
    let r = s
        .client()
        .call(None, "get-method-info", &[("method", "get-method-info")])
        .unwrap();
    assert!(quick_xml::Reader::from_str(&r.body).read_event().is_ok());
}
