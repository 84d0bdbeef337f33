//! The public clients of the original service, reproduced on the wire with
//! curl (clients-on-the-wire.md): the WordPress plugin's HTTP/1.0 over TLS,
//! the SDK's multipart bodies, the legacy `download-image` whose embedded
//! IPTC/XMP an independent reader (exiftool) sees, `test=yes` downloads
//! that never charge, and the caller echo (`<api_key>` / `<token>`).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use panthera::client::{sign_params, sign_user_params, Credentials, UserToken};
use panthera::store::now_unix;
use rand::Rng;
use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::Server;

/// The User-Agent the WordPress plugin sets.
const WP_AGENT: &str = "Mozilla/5.0 (Linux +www.panthermedia.net) PantherMediaRESTfulClient/1.0 \
                        PantherMediaStockPhoto/1.8.4";
/// The SDK's User-Agent.
const SDK_AGENT: &str = "PantherMedia RESTful Client 1.0 (www.panthermedia.net)";
const TOKEN_SECRET: &str = "5f9c2b7a1e3d4";

/// One answer as curl saw it.
struct Curl {
    status: u16,
    /// `%{http_version}`: 1.0, 1.1, 2.
    version: String,
    content_type: String,
    body: Vec<u8>,
}

impl Curl {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json", "{}", self.text());
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// How the body goes out.
enum Body {
    /// `application/x-www-form-urlencoded`, RFC 1738 like PHP's
    /// http_build_query (WordPress, Guzzle).
    Form,
    /// `multipart/form-data`, one raw part per field (the SDK's curl array).
    Multipart,
}

/// The signed app (and user) fields plus `params`, as the clients send them:
/// a 6-digit random nonce, `algo=sha1`.
fn signed(
    creds: &Credentials,
    token: Option<&UserToken>,
    params: &[(&str, &str)],
) -> Vec<(String, String)> {
    let nonce = rand::thread_rng().gen_range(900_000..=999_999).to_string();
    let mut form = match token {
        Some(t) => sign_user_params(creds, t, now_unix(), &nonce),
        None => sign_params(creds, now_unix(), &nonce),
    };
    form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

/// POSTs `form` to `url` with curl and the given options.
fn curl(url: &str, opts: &[&str], form: &[(String, String)], body: Body) -> Curl {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("body");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-k", "-o"])
        .arg(&out)
        .args(["-w", "%{http_code} %{http_version} %{content_type}"])
        .args(opts);
    match body {
        Body::Form => {
            let encoded = serde_urlencoded::to_string(form).unwrap();
            cmd.args(["--data-binary", &encoded]);
        }
        Body::Multipart => {
            for (k, v) in form {
                cmd.arg("--form-string").arg(format!("{k}={v}"));
            }
        }
    }
    let done = cmd
        .arg(url)
        .output()
        .expect("curl is installed (scripts/test)");
    let written = String::from_utf8_lossy(&done.stdout).into_owned();
    assert!(
        done.status.success(),
        "curl {opts:?} {url}: {written} {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let mut parts = written.splitn(3, ' ');
    Curl {
        status: parts.next().and_then(|s| s.parse().ok()).unwrap_or(0),
        version: parts.next().unwrap_or_default().to_string(),
        content_type: parts.next().unwrap_or_default().to_string(),
        body: std::fs::read(&out).unwrap_or_default(),
    }
}

/// The headers the WordPress plugin sends (HTTP/1.0 is chosen separately).
fn wp_headers() -> Vec<&'static str> {
    vec![
        "-A",
        WP_AGENT,
        "-H",
        "Connection: Keep-Alive",
        "-H",
        "Keep-Alive: 300",
        "-H",
        "Accept-Version: 1.0",
    ]
}

/// The SDK's headers (HTTP/1.1, multipart, any encoding).
fn sdk_headers() -> Vec<&'static str> {
    vec![
        "-A",
        SDK_AGENT,
        "-H",
        "Connection: Keep-Alive",
        "-H",
        "Keep-Alive: 300",
        "-H",
        "Accept-Version: 1.0",
        "--compressed",
        "--http1.1",
    ]
}

/// `request-token` as the WordPress plugin calls it: HTTPS, `alpn` the
/// curl protocol option, `app_name` urlencoded by the plugin itself first.
fn wp_request_token(s: &Server, alpn: &str) -> Curl {
    let url = format!("{}/request-token", s.tls_base.as_deref().unwrap());
    let form = signed(
        s.demo.as_ref().unwrap(),
        None,
        &[
            ("content_type", "application/json"),
            ("token_secret", TOKEN_SECRET),
            (
                "app_name",
                "WordPress+panthermedia-stock-photo+1.8.4+-+blog.example",
            ),
            ("app_callback", "https://blog.example/wp-admin/admin.php"),
            ("lang", "en"),
        ],
    );
    let mut opts = wp_headers();
    opts.push(alpn);
    curl(&url, &opts, &form, Body::Form)
}

fn cli_json(s: &Server, args: &[&str]) -> Value {
    let out = s.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A key acting for `alice`, whose deposit is empty.
fn broke_key(s: &Server) -> Credentials {
    let v = cli_json(
        s,
        &[
            "keys", "create", "--name", "broke", "--owner", "alice", "--json",
        ],
    );
    Credentials {
        api_key: v["api_key"].as_str().unwrap().into(),
        api_secret: v["api_secret"].as_str().unwrap().into(),
        algo: panthera::protocol::signature::Algo::Sha1,
    }
}

/// A signed call over plain HTTP as the SDK makes it (multipart).
fn sdk_call(
    s: &Server,
    creds: &Credentials,
    token: Option<&UserToken>,
    method: &str,
    params: &[(&str, &str)],
) -> Curl {
    let form = signed(creds, token, params);
    curl(
        &format!("{}/{method}", s.base),
        &sdk_headers(),
        &form,
        Body::Multipart,
    )
}

fn deposit(s: &Server, creds: &Credentials) -> String {
    let r = sdk_call(
        s,
        creds,
        None,
        "get-user-deposit",
        &[("content_type", "application/json")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["deposits"]["deposit"]["deposit-remaining"]
        .as_str()
        .unwrap()
        .to_string()
}

fn exiftool(file: &Path) -> Value {
    let out = Command::new("exiftool")
        .args(["-j", "-G", "-a"])
        .arg(file)
        .output()
        .expect("exiftool is installed (scripts/test installs libimage-exiftool-perl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0].clone()
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// exiftool's value as a list of strings (one value comes as a scalar).
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        Value::String(s) => vec![s.clone()],
        other => panic!("not text: {other}"),
    }
}

#[test]
fn tls_serves_http_1_0_1_1_h2_and_no_alpn_clients() {
    let s = Server::start_tls_with("");
    for (alpn, version) in [
        ("--http1.0", "1"),
        ("--http1.1", "1.1"),
        ("--no-alpn", "1.1"),
        ("--http2", "2"),
    ] {
        let r = wp_request_token(&s, alpn);
        assert_eq!(r.status, 200, "{alpn}: {}", r.text());
        // curl writes HTTP/1.0 as "1"
        assert_eq!(r.version.trim_end_matches(".0"), version, "{alpn}");
        let v = r.json();
        assert_eq!(v["stat"], "ok", "{alpn}");
        assert!(v["token"].as_str().is_some_and(|t| t.len() >= 32), "{v}");
        assert!(
            v["auth_url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://")),
            "{v}"
        );
    }
}

#[test]
fn the_wordpress_flow_over_http_1_0_and_the_token_echo() {
    let s = Server::start_tls_with("");
    let v = wp_request_token(&s, "--http1.0").json();
    let token = UserToken {
        auth_token: v["token"].as_str().unwrap().into(),
        token_secret: TOKEN_SECRET.into(),
    };
    let mut browser = Browser::new(&s.cert_pem());
    let (user, pw) = s.demo_user.clone().unwrap();
    let done = crate::tokens::decide(
        &mut browser,
        v["auth_url"].as_str().unwrap(),
        &user,
        &pw,
        "allow",
    );
    // back to the plugin's admin page
    assert_eq!(done.status, 303, "{}", done.body);
    let creds = s.demo.clone().unwrap();
    let tls = s.tls_base.clone().unwrap();
    let wp = |method: &str, params: &[(&str, &str)]| {
        let mut opts = wp_headers();
        opts.push("--http1.0");
        let form = signed(&creds, Some(&token), params);
        curl(&format!("{tls}/{method}"), &opts, &form, Body::Form)
    };
    let r = wp("get-user-profile", &[("content_type", "application/json")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.version.trim_end_matches(".0"), "1");
    assert_eq!(r.json()["user"]["username"], user.as_str());

    // methods that need a user echo the token first
    let r = wp(
        "get-user-media-count",
        &[("content_type", "application/json")],
    );
    let body = r.text();
    assert!(
        body.starts_with(&format!(
            "{{\"stat\":\"ok\",\"token\":\"{}\",",
            token.auth_token
        )),
        "{body}"
    );
    let all: i64 = r.json()["count"].as_str().unwrap().parse().unwrap();
    assert!(all > 0, "the demo user contributes media");
    let r = wp("get-user-media-list", &[("limit", "3")]);
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains(&format!(
            "<rsp stat=\"ok\"><token>{}</token><media total=",
            token.auth_token
        )),
        "{}",
        r.text()
    );

    // the original's extra vocabulary is accepted; quality is not rated so it
    // does not narrow, and only the agency publishes
    let count = |params: &[(&str, &str)]| -> i64 {
        let mut p = vec![("content_type", "application/json")];
        p.extend_from_slice(params);
        let r = wp("get-user-media-count", &p);
        assert_eq!(r.status, 200, "{params:?}: {}", r.text());
        r.json()["count"].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(count(&[("published[]", "agency")]), all);
    assert_eq!(count(&[("published", "all"), ("quality", "min-good")]), all);
    assert_eq!(
        count(&[("quality[]", "excellent"), ("quality[]", "fair")]),
        all
    );
    assert_eq!(count(&[("published[]", "community")]), 0);
    let r = wp(
        "get-user-media-list",
        &[
            ("content_type", "application/json"),
            ("sort", "quality"),
            ("order", "desc"),
            ("published[]", "agency"),
            ("quality[]", "min-very-good"),
            ("limit", "50"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["media"]["total"].as_str().unwrap(), all.to_string());
    let r = wp(
        "get-user-media-list",
        &[
            ("content_type", "application/json"),
            ("published", "community"),
        ],
    );
    assert_eq!(r.json()["media"]["total"], "0");
}

#[test]
fn test_downloads_never_charge_and_work_with_a_zero_deposit() {
    let s = Server::start();
    let broke = broke_key(&s);
    assert_eq!(deposit(&s, &broke), "0");

    // a real purchase cannot be paid
    let r = sdk_call(
        &s,
        &broke,
        None,
        "download-media",
        &[
            ("content_type", "application/json"),
            ("id_media", "1"),
            ("id_article", "1"),
        ],
    );
    assert_eq!(r.status, 402, "{}", r.text());
    assert_eq!(r.json()["stat"], "fail");

    // the shop's flow with test=yes (urlencoded, Guzzle-like): order, then poll
    let guzzle = |creds: &Credentials, params: &[(&str, &str)]| {
        let form = signed(creds, None, params);
        curl(
            &format!("{}/download-media", s.base),
            &[
                "-A",
                "GuzzleHttp/7",
                "-H",
                "Accept-Version: 1.0",
                "-H",
                "Content-Type: application/x-www-form-urlencoded",
            ],
            &form,
            Body::Form,
        )
    };
    let r = guzzle(
        &broke,
        &[
            ("content_type", "application/json"),
            ("lang", "en"),
            ("id_media", "1"),
            ("id_article", "1"),
            ("test", "yes"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["stat"], "ok");
    assert_eq!(v["api_key"], broke.api_key.as_str());
    assert_eq!(v["download_infos"]["test"], "yes");
    assert_eq!(v["download_infos"]["deposit_settled"], "0");
    assert_eq!(v["download_status"]["status"], "ready");
    let url = v["download_status"]["download_url"].as_str().unwrap();
    let r = guzzle(
        &broke,
        &[
            ("content_type", "application/json"),
            ("id_media", "1"),
            (
                "queue_hash",
                v["download_status"]["queue_hash"].as_str().unwrap(),
            ),
            (
                "callback_url",
                "https://shop.example/backend/api/callback_download",
            ),
            ("test", "yes"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["download_status"]["status"], "ready");

    // the file: a small JPEG, not the purchased size
    let file = Command::new("curl")
        .args(["-sS", "-f", url])
        .output()
        .unwrap();
    assert!(file.status.success(), "{url}");
    let dir = tempfile::tempdir().unwrap();
    let info = exiftool(&write_temp(dir.path(), "test.jpg", &file.stdout));
    assert_eq!(info["File:FileType"], "JPEG");
    let (w, h) = (
        info["File:ImageWidth"].as_i64().unwrap(),
        info["File:ImageHeight"].as_i64().unwrap(),
    );
    assert!(w.max(h) <= 400, "{w}x{h}");

    // test mode still checks what it is asked for
    let r = guzzle(
        &broke,
        &[
            ("content_type", "application/json"),
            ("id_media", "1"),
            ("id_article", "999"),
            ("test", "yes"),
        ],
    );
    assert_eq!(r.status, 404, "{}", r.text());

    // nothing was charged, nothing was bought
    assert_eq!(deposit(&s, &broke), "0");
    let demo = s.demo.clone().unwrap();
    let before = deposit(&s, &demo);
    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-image",
        &[
            ("content_type", "application/json"),
            ("lang", "en"),
            ("metadata", "all"),
            ("id_media", "2"),
            ("id_article", "4"),
            ("test", "yes"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["download_infos"]["deposit_settled"], "0");
    assert_eq!(deposit(&s, &demo), before);
    for creds in [&broke, &demo] {
        let r = sdk_call(
            &s,
            creds,
            None,
            "get-downloaded-images",
            &[("content_type", "application/json")],
        );
        assert_eq!(r.json()["media_list"]["total"], "0", "{}", r.text());
    }
}

#[test]
fn download_image_bytes_carry_iptc_and_xmp_that_exiftool_reads() {
    let s = Server::start();
    let demo = s.demo.clone().unwrap();
    let info = sdk_call(
        &s,
        &demo,
        None,
        "get-media-info",
        &[("content_type", "application/json"), ("id_media", "3")],
    )
    .json();
    let meta = &info["metadata"];
    let title = meta["title"].as_str().unwrap();
    let description = meta["description"].as_str().unwrap();
    let keywords: Vec<String> = meta["keywords"]
        .as_str()
        .unwrap()
        .split(',')
        .map(|k| k.trim().to_string())
        .collect();
    let author = match meta["author_realname"].as_str().unwrap() {
        "" => meta["author_username"].as_str().unwrap(),
        real => real,
    };
    let copyright = format!("© {author}");
    let before: i64 = deposit(&s, &demo).parse().unwrap();

    // the WordPress plugin: urlencoded, octet-stream first, raw bytes back
    let get = |metadata: &str| {
        let form = signed(
            &demo,
            None,
            &[
                ("content_type", "application/octet-stream, application/json"),
                ("id_media", "3"),
                ("id_article", "1"),
                ("lang", "en"),
                ("metadata", metadata),
            ],
        );
        let mut opts = wp_headers();
        opts.push("--http1.0");
        let r = curl(
            &format!("{}/download-image", s.base),
            &opts,
            &form,
            Body::Form,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.content_type, "image/jpeg");
        r.body
    };
    let dir = tempfile::tempdir().unwrap();
    let all = exiftool(&write_temp(dir.path(), "all.jpg", &get("all")));
    assert_eq!(all["IPTC:ObjectName"], title);
    assert_eq!(strings(&all["IPTC:Keywords"]), keywords);
    assert_eq!(all["IPTC:Caption-Abstract"], description);
    assert_eq!(all["IPTC:By-line"], author);
    assert_eq!(all["IPTC:CopyrightNotice"], copyright.as_str());
    assert_eq!(all["XMP:Title"], title);
    assert_eq!(strings(&all["XMP:Subject"]), keywords);
    assert_eq!(all["XMP:Description"], description);
    assert_eq!(strings(&all["XMP:Creator"]), [author]);
    assert_eq!(all["XMP:Rights"], copyright.as_str());
    // the XS article of a larger original: 480 pixels on the long side
    let (w, h) = (
        all["File:ImageWidth"].as_i64().unwrap(),
        all["File:ImageHeight"].as_i64().unwrap(),
    );
    assert_eq!(w.max(h), 480);

    let iptc = exiftool(&write_temp(dir.path(), "iptc.jpg", &get("iptc")));
    assert_eq!(iptc["IPTC:ObjectName"], title);
    assert!(iptc.get("XMP:Title").is_none(), "{iptc}");
    let xmp = exiftool(&write_temp(dir.path(), "xmp.jpg", &get("xmp")));
    assert_eq!(xmp["XMP:Title"], title);
    assert!(xmp.get("IPTC:ObjectName").is_none(), "{xmp}");
    let none = exiftool(&write_temp(dir.path(), "none.jpg", &get("none")));
    assert!(
        none.get("IPTC:ObjectName").is_none() && none.get("XMP:Title").is_none(),
        "{none}"
    );

    // one purchase, three free re-downloads of what is held
    assert_eq!(deposit(&s, &demo).parse::<i64>().unwrap(), before - 5);
    let r = sdk_call(
        &s,
        &demo,
        None,
        "get-downloaded-images",
        &[("content_type", "application/json")],
    );
    assert_eq!(r.json()["media_list"]["total"], "1");

    // 402 like download-media when the deposit cannot pay
    let r = sdk_call(
        &s,
        &broke_key(&s),
        None,
        "download-image",
        &[
            ("content_type", "application/json"),
            ("id_media", "3"),
            ("id_article", "1"),
            ("metadata", "all"),
        ],
    );
    assert_eq!(r.status, 402, "{}", r.text());
    assert_eq!(r.json()["err"]["code"], 402);
}

#[test]
fn download_image_answers_in_json_and_xml_like_download_media() {
    let s = Server::start();
    let demo = s.demo.clone().unwrap();
    // the SDK: multipart, JSON, metadata=all
    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-image",
        &[
            ("content_type", "application/json"),
            ("lang", "en"),
            ("metadata", "all"),
            ("id_media", "4"),
            ("id_article", "2"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with(&format!(
            "{{\"stat\":\"ok\",\"api_key\":\"{}\",",
            demo.api_key
        )),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["download_infos"]["deposit_settled"], "10");
    assert_eq!(v["download_status"]["id_media"], "4");
    let id_download = v["download_status"]["id_download"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["media"]["mimetype"], "image/jpeg");
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(v["media"]["base64"].as_str().unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tags = exiftool(&write_temp(dir.path(), "json.jpg", &jpeg));
    assert!(tags["IPTC:ObjectName"].as_str().is_some(), "{tags}");
    assert!(tags["XMP:Title"].as_str().is_some(), "{tags}");

    // XML (no content_type), a re-download by id_download: free
    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-image",
        &[
            ("id_media", "4"),
            ("id_article", "2"),
            ("id_download", &id_download),
            ("metadata", "none"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let xml = r.text();
    assert!(
        xml.contains(&format!(
            "<rsp stat=\"ok\"><api_key>{}</api_key><download_infos>",
            demo.api_key
        )),
        "{xml}"
    );
    assert!(
        xml.contains("<deposit_settled>0</deposit_settled>"),
        "{xml}"
    );
    assert!(xml.contains("<media><base64>/9j/"), "{xml}");
    assert!(
        xml.contains("<mimetype>image/jpeg</mimetype></media>"),
        "{xml}"
    );
    assert!(xml.contains(&format!("<id_download>{id_download}</id_download>")));

    // an unknown order, a missing article
    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-image",
        &[
            ("content_type", "application/json"),
            ("id_media", "4"),
            ("id_article", "2"),
            ("id_download", "99999"),
        ],
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-image",
        &[("content_type", "application/json"), ("id_media", "4")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["stat"], "fail");

    // declared in the registry: get-method-info and the docs page show it
    let r = sdk_call(
        &s,
        &demo,
        None,
        "get-method-info",
        &[
            ("content_type", "application/json"),
            ("method", "download-image"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.text();
    for want in ["metadata", "iptc", "xmp", "id_download", "test"] {
        assert!(info.contains(want), "{want}: {info}");
    }
    let page = crate::helpers::get(&s.addr, "/download-image");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("metadata"), "{}", page.body);
}

#[test]
fn app_level_methods_echo_the_api_key_and_take_the_original_parameters() {
    let s = Server::start();
    let demo = s.demo.clone().unwrap();
    let r = sdk_call(
        &s,
        &demo,
        None,
        "get-user-deposit",
        &[("content_type", "application/json"), ("lang", "en")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with(&format!(
            "{{\"stat\":\"ok\",\"api_key\":\"{}\",",
            demo.api_key
        )),
        "{}",
        r.text()
    );
    let d = &r.json()["deposits"]["deposit"];
    assert_eq!(d["deposit-remaining"], "1000");
    assert_eq!(d["deposit-remaining-percent"], "100");
    assert_eq!(d["term"], "unlimited");
    assert_eq!(d["valid-until"], "unlimited");
    // no credits ever: the percentage is not applicable
    let r = sdk_call(&s, &broke_key(&s), None, "get-user-deposit", &[]);
    assert!(
        r.text().contains("deposit-remaining-percent=\"n/a\""),
        "{}",
        r.text()
    );

    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-media",
        &[("id_media", "5"), ("id_article", "1,101")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains(&format!(
            "<rsp stat=\"ok\"><api_key>{}</api_key><download_infos>",
            demo.api_key
        )),
        "{}",
        r.text()
    );
    let r = sdk_call(
        &s,
        &demo,
        None,
        "download-media",
        &[("id_media", "6"), ("id_article", "2")],
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // the plugin's call: the full extra_info list and license_info
    let r = sdk_call(
        &s,
        &demo,
        None,
        "get-downloaded-images",
        &[
            ("content_type", "application/json"),
            ("limit", "10"),
            ("offset", "0"),
            ("extra_info", "width,height,mimetype,date,ref,state"),
            ("license_info", "yes"),
            ("corporate_all_user", "no"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with(&format!(
            "{{\"stat\":\"ok\",\"api_key\":\"{}\",",
            demo.api_key
        )),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["media_list"]["total"], "2");
    let list = v["media_list"]["media"].as_array().unwrap();
    let by_media = |id: &str| {
        list.iter()
            .find(|m| m["id-media"] == id)
            .unwrap_or_else(|| panic!("{id} in {v}"))
    };
    let extended = by_media("5");
    assert_eq!(extended["license"], "extended");
    assert_eq!(extended["articles"], "1,101");
    assert_eq!(extended["ref"], "");
    assert!(
        ["queued", "processing", "ready"].contains(&extended["state"].as_str().unwrap()),
        "{extended}"
    );
    assert_eq!(by_media("6")["license"], "standard");
    assert!(by_media("6")["width"].as_str().is_some());

    // one download: a single child is an object, not a one-element list
    let r = sdk_call(
        &s,
        &demo,
        None,
        "get-downloaded-images",
        &[
            ("content_type", "application/json"),
            ("id_media", "6"),
            ("extra_info", "ref,state"),
        ],
    );
    let v = r.json();
    assert_eq!(v["media_list"]["media"]["id-media"], "6", "{v}");
}
