//! Routing, versions, parameters and the shape of answers (protocol.md §1, §2, §6, §7).

use crate::helpers::{get, raw, raw_post, signed_body, Server};

const FORM: &str = "application/x-www-form-urlencoded";

#[test]
fn method_urls_with_and_without_version_and_trailing_slash() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    for path in [
        "/host-info",
        "/host-info/",
        "/v1.0/host-info",
        "/v1.0/host-info/",
        "/v1.2/host-info",
    ] {
        let r = raw_post(&s.addr, path, "", FORM, &signed_body(&creds, &[]));
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let expected = if path.contains("1.2") { "v1.2" } else { "v1.0" };
        assert_eq!(r.header("x-api-version"), Some(expected), "{path}");
    }
}

#[test]
fn accept_version_header_and_path_precedence() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = raw_post(
        &s.addr,
        "/host-info",
        "Accept-Version: 1.1\r\n",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-api-version"), Some("v1.1"));
    let r = raw_post(
        &s.addr,
        "/v1.2/host-info",
        "Accept-Version: 1.1\r\n",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.header("x-api-version"), Some("v1.2"), "the path wins");
    let r = raw_post(
        &s.addr,
        "/host-info",
        "Accept-Version: 7.3\r\n",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("unknown API version '7.3'"), "{}", r.body);
    let r = raw_post(
        &s.addr,
        "/v9.9/host-info",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn deprecated_versions_redirect_and_gone_versions_answer_410() {
    let cfg = "[versions.states]\n\"0.8\" = \"gone\"\n\"0.9\" = \"deprecated\"\n\"1.0\" = \"current\"\n\"1.1\" = \"current\"\n";
    let s = Server::start_with(cfg);
    let creds = s.demo.clone().unwrap();
    let r = raw_post(
        &s.addr,
        "/v0.9/host-info?x=1",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some("/v1.1/host-info?x=1"));
    let r = raw_post(
        &s.addr,
        "/v0.8/host-info",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 410);
    assert!(r.body.starts_with("410 Gone ("), "{}", r.body);

    let s308 = Server::start_with(&format!("[versions]\ndeprecated_status = 308\n{cfg}"));
    let r = raw_post(
        &s308.addr,
        "/host-info",
        "Accept-Version: 0.9\r\n",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), Some("/v1.1/host-info"));
}

#[test]
fn a_method_called_in_a_version_it_does_not_exist_in_names_its_versions() {
    let s = Server::start_with("[versions.states]\n\"0.9\" = \"current\"\n\"1.0\" = \"current\"\n");
    let creds = s.demo.clone().unwrap();
    let r = raw_post(
        &s.addr,
        "/v0.9/host-info",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 404);
    assert!(
        r.body
            .contains("does not exist in version 0.9, it exists in: 1.0 and later"),
        "{}",
        r.body
    );
    let r = raw_post(
        &s.addr,
        "/v1.0/no-such-method",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("unknown method 'no-such-method'"),
        "{}",
        r.body
    );
}

#[test]
fn standard_headers_on_every_answer() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let answers = [
        raw_post(&s.addr, "/host-info", "", FORM, &signed_body(&creds, &[])),
        raw_post(&s.addr, "/host-info", "", FORM, "api_key=x"),
        get(&s.addr, "/v1.0/host-info"),
    ];
    for r in answers {
        assert_eq!(
            r.header("cache-control"),
            Some("no-store, no-cache, max-age=0, must-revalidate, post-check=0, pre-check=0")
        );
        assert_eq!(r.header("pragma"), Some("no-cache"));
        assert_eq!(r.header("expires"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
        assert!(r
            .header("date")
            .is_some_and(|d| httpdate::parse_http_date(d).is_ok()));
        assert_eq!(r.header("x-request-id").map(str::len), Some(16));
        assert_eq!(r.header("x-api-version"), Some("v1.0"));
    }
}

#[test]
fn content_types_are_exact() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = raw_post(&s.addr, "/host-info", "", FORM, &signed_body(&creds, &[]));
    assert_eq!(r.header("content-type"), Some("text/xml;charset=UTF-8"));
    assert!(r.body.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<rsp stat=\"ok\">"
    ));
    let r = raw_post(
        &s.addr,
        "/host-info",
        "",
        FORM,
        &signed_body(&creds, &[("content_type", "application/json")]),
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["stat"], "ok");
    assert_eq!(v["host"]["name"], "Panthera");
}

#[test]
fn normal_errors_follow_content_type_and_fatal_ones_are_text_html() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    // authenticated, then refused: normal error
    let r = raw_post(
        &s.addr,
        "/get-method-info",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("text/xml;charset=UTF-8"));
    assert!(r.body.contains("<rsp stat=\"fail\"><err code=\"400\" msg=\"missing parameter &apos;method&apos;\"/></rsp>")
        || r.body.contains("<rsp stat=\"fail\"><err code=\"400\" msg=\"missing parameter 'method'\"/></rsp>"), "{}", r.body);
    let r = raw_post(
        &s.addr,
        "/get-method-info",
        "",
        FORM,
        &signed_body(
            &creds,
            &[("method", "nope"), ("content_type", "application/json")],
        ),
    );
    assert_eq!(r.status, 404);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["stat"], "fail");
    assert_eq!(v["err"]["code"], 404);
    // fatal: before the caller is known, whatever content_type says
    let r = raw_post(
        &s.addr,
        "/host-info",
        "",
        FORM,
        "api_key=x&content_type=application%2Fjson",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(
        r.body.starts_with("400 Bad request (missing parameter"),
        "{}",
        r.body
    );
}

#[test]
fn no_user_agent_is_412_and_other_verbs_are_501() {
    let s = Server::start();
    let r = raw(
        &s.addr,
        format!("POST /host-info HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", s.addr).as_bytes(),
    );
    assert_eq!(r.status, 412);
    assert!(r.body.starts_with("412 Precondition Failed"), "{}", r.body);
    for verb in ["DELETE", "PATCH", "OPTIONS", "HEAD"] {
        let r = raw(
            &s.addr,
            format!("{verb} /host-info HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        );
        assert_eq!(r.status, 501, "{verb}");
    }
    // PUT only where a method declares it
    let r = raw(
        &s.addr,
        b"PUT /host-info?api_key=x HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(r.status, 501);
}

#[test]
fn urlencoded_variants_of_real_clients() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let body = signed_body(&creds, &[]);
    // charset suffix
    let r = raw_post(
        &s.addr,
        "/host-info",
        "",
        "application/x-www-form-urlencoded; charset=UTF-8",
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // %20 instead of +, raw comma and colon (the original docs' sample encoding)
    let body = signed_body(&creds, &[])
        .replace('+', "%20")
        .replace("%2C", ",")
        .replace("%3A", ":");
    assert!(body.contains(",%20") && body.contains(':'), "{body}");
    let r = raw_post(&s.addr, "/host-info", "", FORM, &body);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn query_parameters_merge_and_duplicates_are_refused() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = raw_post(
        &s.addr,
        "/get-method-info?method=host-info",
        "",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"host-info\""));
    let r = raw_post(
        &s.addr,
        "/get-method-info?method=host-info",
        "",
        FORM,
        &signed_body(&creds, &[("method", "x")]),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("'method' given twice"), "{}", r.body);
    let twice = format!("{}&nonce=again", signed_body(&creds, &[]));
    let r = raw_post(&s.addr, "/host-info", "", FORM, &twice);
    assert_eq!(r.status, 400);
}

#[test]
fn get_with_credentials_in_the_query_executes() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = get(
        &s.addr,
        &format!("/v1.0/host-info?{}", signed_body(&creds, &[])),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<rsp stat=\"ok\">"));
}

#[test]
fn multipart_bodies_like_php_curl_sends() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let form = panthera::client::sign_params(&creds, panthera::store::now_unix(), "multi part");
    let boundary = "------------------------abc123";
    let mut body = String::new();
    for (k, v) in form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("method", "host-info")])
    {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let r = raw_post(
        &s.addr,
        "/get-method-info",
        "",
        &format!("multipart/form-data; boundary={boundary}"),
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn oversized_bodies_are_413_and_too_many_parameters_400() {
    let s = Server::start_with("[limits]\nmax_body_bytes = 2048\nmax_params = 20\n");
    let creds = s.demo.clone().unwrap();
    let big = format!("{}&pad={}", signed_body(&creds, &[]), "x".repeat(4096));
    let r = raw_post(&s.addr, "/host-info", "", FORM, &big);
    assert_eq!(r.status, 413);
    assert!(r.body.starts_with("413 Payload Too Large"), "{}", r.body);
    let many: Vec<(String, String)> = (0..30)
        .map(|i| (format!("p{i}"), "v".to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = raw_post(&s.addr, "/host-info", "", FORM, &signed_body(&creds, &refs));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("too many parameters"), "{}", r.body);
    // the server is still fine afterwards
    let r = raw_post(&s.addr, "/host-info", "", FORM, &signed_body(&creds, &[]));
    assert_eq!(r.status, 200);
}

#[test]
fn gzip_when_asked() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = raw_post(
        &s.addr,
        "/get-method-list",
        "Accept-Encoding: gzip\r\n",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
}

#[test]
fn http_1_0_and_keep_alive() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let body = signed_body(&creds, &[]);
    let r = raw(
        &s.addr,
        format!("POST /host-info HTTP/1.0\r\nUser-Agent: old\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // two requests on one connection
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    for i in 0..2 {
        let body = signed_body(&creds, &[]);
        let close = if i == 1 { "Connection: close\r\n" } else { "" };
        write!(conn, "POST /host-info HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n{close}Content-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    }
    let mut all = String::new();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let _ = conn.read_to_string(&mut all);
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 2, "{all}");
}

#[test]
fn ipv4_and_ipv6_loopback() {
    let s = Server::start_listening(&["127.0.0.1:0", "[::1]:0"]);
    assert_eq!(s.addrs.len(), 2);
    let creds = s.demo.clone().unwrap();
    for addr in &s.addrs {
        let r = raw_post(addr, "/host-info", "", FORM, &signed_body(&creds, &[]));
        assert_eq!(r.status, 200, "{addr}: {}", r.body);
    }
    assert!(s.addrs[1].starts_with("[::1]:"), "{:?}", s.addrs);
}

#[test]
fn expect_100_continue_is_honoured() {
    use std::io::{Read, Write};
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let body = signed_body(&creds, &[]);
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "POST /host-info HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nConnection: close\r\nExpect: 100-continue\r\n\
Content-Type: {FORM}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut first = [0u8; 25];
    conn.read_exact(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("HTTP/1.1 100 Continue"));
    conn.write_all(body.as_bytes()).unwrap();
    let mut rest = String::new();
    let _ = conn.read_to_string(&mut rest);
    assert!(rest.contains("HTTP/1.1 200 OK"), "{rest}");
}

#[test]
fn deflate_when_asked() {
    let s = Server::start();
    let creds = s.demo.clone().unwrap();
    let r = raw_post(
        &s.addr,
        "/get-method-list",
        "Accept-Encoding: deflate\r\n",
        FORM,
        &signed_body(&creds, &[]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("deflate"));
}
