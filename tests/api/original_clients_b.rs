//! The original service's public clients (clients-on-the-wire.md), part B:
//! the whole search vocabulary (`filters`/`filter`, every `extra_info` of
//! v1.0 and v1.2, `author-username`), `get-search-filter`, and the upload
//! inbox (`get-user-ftp-list`, `panthera media inbox`). Requests are built
//! the way those clients build them: urlencoded bodies (`+` for spaces,
//! `%3A`, `%2C`, `%3B`), the version only in `Accept-Version`, answers read
//! as JSON with a single child being an object.

use std::collections::BTreeSet;

use panthera::client::{
    random_nonce, sign_params, sign_user_params, Credentials, Reply, UserToken,
};
use panthera::store::now_unix;
use serde_json::Value;

use crate::helpers::{raw_post, Server};

/// The v1.0 `extra_info` list (the original's search-similar page, which
/// the v1.0 search shares).
const EXTRA_V1_0: &str = "preview,preview_high,width,height,copyright,date,keywords,title,\
description,editorial,extended,packet,subscription,premium,rights_managed,mimetype,model_id,\
model_release,property_release,author_username,author_realname,adult_content";

/// The v1.2 `extra_info` list (the original's v1.2 search page).
const EXTRA_V1_2: &str = "preview,preview_high,width,height,copyright,date,keywords,title,\
description,editorial,extended,packet,subscription,premium,spx,mimetype,model_release,\
property_release,author_username,author_realname,adult_content,datasets_ai_content,type,\
license,contributor,price,people_number,isolated,collection,orientation";

/// A POST to `/<method>` with the version only in `Accept-Version`, a
/// urlencoded body as PHP's `http_build_query` makes it, JSON asked.
fn post(
    s: &Server,
    creds: &Credentials,
    token: Option<&UserToken>,
    version: &str,
    method: &str,
    params: &[(&str, &str)],
) -> Reply {
    let nonce = random_nonce();
    let mut form = match token {
        Some(t) => sign_user_params(creds, t, now_unix(), &nonce),
        None => sign_params(creds, now_unix(), &nonce),
    };
    form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form.push(("content_type".into(), "application/json".into()));
    let body = serde_urlencoded::to_string(&form).unwrap();
    raw_post(
        &s.addr,
        &format!("/{method}"),
        &format!("Accept-Version: {version}\r\nKeep-Alive: 300\r\n"),
        "application/x-www-form-urlencoded",
        &body,
    )
}

/// The JSON of a 200 answer, checked the way the SDK checks it: the header
/// is exactly `application/json` and the body carries `stat`.
fn json_ok(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    assert_eq!(v["stat"], "ok", "{v}");
    v
}

/// One object or an array of them, as a list (what the PHP clients do with
/// `isset($x['media'][0])`).
fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn ids(v: &Value) -> Vec<i64> {
    list(&v["items"]["media"])
        .iter()
        .map(|m| m["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn cli_ok(s: &Server, args: &[&str]) -> String {
    let out = s.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_three_clients_search_with_the_original_vocabulary() {
    let s = Server::start();
    let demo = s.demo.clone().unwrap();

    // C (ImageFootage, v1.0): spaces after ':', the long extra_info list
    let r = post(
        &s,
        &demo,
        None,
        "1.0",
        "search",
        &[
            ("lang", "en"),
            ("q", ""),
            ("page", "0"),
            ("limit", "30"),
            (
                "extra_info",
                &format!("{EXTRA_V1_0},license,contributor,type,collection,orientation,people_number,price,isolated,spx"),
            ),
            (
                "filters",
                "sort: rel;type: photos;people_number:all;orientation:vertical;",
            ),
        ],
    );
    let v = json_ok(&r);
    let items = list(&v["items"]["media"]);
    assert!(!items.is_empty(), "{v}");
    for m in &items {
        let (w, h): (i64, i64) = (
            m["width"].as_str().unwrap().parse().unwrap(),
            m["height"].as_str().unwrap().parse().unwrap(),
        );
        assert!(h > w, "orientation:vertical: {m}");
        assert_eq!(m["orientation"], "vertical");
        assert_eq!(m["type"], "photos");
        assert!(m["author-username"].as_str().is_some_and(|a| !a.is_empty()));
        assert!(m["author-realname"].is_string());
        assert!(m.get("author_username").is_none(), "{m}");
        for name in EXTRA_V1_0.split(',').chain([
            "license",
            "contributor",
            "collection",
            "people_number",
            "price",
            "isolated",
            "spx",
        ]) {
            let attr = name.replace("author_", "author-");
            assert!(m[&attr].is_string(), "{attr} missing: {m}");
        }
        assert_eq!(m["rights_managed"], "no");
        assert_eq!(m["extended"], "yes");
        assert_eq!(m["contributor"], m["author-username"]);
        assert!(m["price"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    }

    // B (SDK): `license:commercial;sort:rel;`, one item → an object
    let r = post(
        &s,
        &demo,
        None,
        "1.0",
        "search",
        &[
            ("lang", "en"),
            ("q", "fox"),
            ("page", "0"),
            ("limit", "1"),
            ("filters", "license:commercial;sort:rel;"),
        ],
    );
    let v = json_ok(&r);
    assert_eq!(v["items"]["items"], "1");
    assert!(
        v["items"]["media"].is_object(),
        "single child = object: {v}"
    );

    // A (WordPress): its four extra_info names, 0-based pages, limit 24
    let r = post(
        &s,
        &demo,
        None,
        "1.0",
        "search",
        &[
            ("q", ""),
            ("lang", "en"),
            ("page", "0"),
            ("limit", "24"),
            ("extra_info", "title,preview,keywords,author_username"),
            ("filters", "sort:date;orientation:horizontal,square;"),
        ],
    );
    let v = json_ok(&r);
    assert_eq!(list(&v["items"]["media"]).len(), 24);
    for m in list(&v["items"]["media"]) {
        for attr in [
            "id",
            "title",
            "thumb",
            "preview",
            "keywords",
            "author-username",
        ] {
            assert!(m[attr].is_string(), "{attr}: {m}");
        }
    }

    // C's v1.2 searchWithAuthor: `filter` (singular), q='', the v1.2 list
    let r = post(
        &s,
        &demo,
        None,
        "1.2",
        "search",
        &[
            ("lang", "en"),
            ("q", ""),
            ("page", "1"),
            ("limit", "100"),
            ("extra_info", EXTRA_V1_2),
            ("filter", "sort:date;type:photos;author:anna.berg"),
        ],
    );
    let v = json_ok(&r);
    let found = ids(&v);
    assert!(!found.is_empty(), "{v}");
    assert!(
        found.windows(2).all(|w| w[0] > w[1]),
        "sort:date is newest (= highest id here) first: {found:?}"
    );
    for m in list(&v["items"]["media"]) {
        assert_eq!(m["author-username"], "anna.berg");
        assert_eq!(m["contributor"], "anna.berg");
        assert_eq!(m["type"], "photos");
        for name in EXTRA_V1_2.split(',') {
            let attr = name.replace("author_", "author-");
            assert!(m[&attr].is_string(), "{attr} missing: {m}");
        }
        assert_eq!(m["datasets_ai_content"], "no");
        assert!(["standard", "premium"].contains(&m["collection"].as_str().unwrap()));
    }
    // an author nobody is: no hits, not an error
    let r = post(
        &s,
        &demo,
        None,
        "1.2",
        "search",
        &[("filter", "author:nobody.here"), ("page", "1")],
    );
    assert_eq!(json_ok(&r)["items"]["total"], "0");
    // unknown names and values are still refused with what is allowed
    let r = post(
        &s,
        &demo,
        None,
        "1.0",
        "search",
        &[("filters", "sort:best")],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("rel, date, buy"), "{}", r.body);
}

const CLARA: &str = "id,title,keywords,author_username,author_realname,width,height,type,\
people_number,people_gender,people_ethnicity,color,editorial,isolated,collection\n\
95001,Green panorama,\"zyx,field\",clara.test,Clara Test,3000,1000,illustration,0,,,00ff00,no,no,standard\n\
95002,Two people,\"zyx,people\",clara.test,Clara Test,1000,2000,photo,2,mf,\"a,e\",ff0000,yes,yes,premium\n\
95003,One woman,\"zyx,woman\",clara.test,Clara Test,1500,1500,photo,1,f,f,0000ff,no,no,standard\n\
95004,A wide vector,\"zyx,shape\",clara.test,Clara Test,1800,1000,vector,0,,,808080,no,no,standard\n";

#[test]
fn every_filter_finds_what_the_imported_catalogue_says() {
    let s = Server::start();
    let path = s.dir.join("clara.csv");
    std::fs::write(&path, CLARA).unwrap();
    cli_ok(&s, &["media", "import", path.to_str().unwrap()]);
    let demo = s.demo.clone().unwrap();
    let found = |filters: &str| -> BTreeSet<i64> {
        let r = post(
            &s,
            &demo,
            None,
            "1.0",
            "search",
            &[
                ("q", "zyx"),
                ("limit", "100"),
                ("filters", &format!("author: clara.test; {filters}")),
            ],
        );
        ids(&json_ok(&r)).into_iter().collect()
    };
    let set = |v: &[i64]| v.iter().copied().collect::<BTreeSet<i64>>();
    assert_eq!(found(""), set(&[95001, 95002, 95003, 95004]));
    assert_eq!(found("orientation:vertical"), set(&[95002]));
    assert_eq!(found("orientation:panorama"), set(&[95001]));
    assert_eq!(found("orientation:horizontal"), set(&[95001, 95004]));
    assert_eq!(
        found("orientation:landscape"),
        set(&[95001, 95004]),
        "alias"
    );
    assert_eq!(found("orientation:square;"), set(&[95003]));
    assert_eq!(found("orientation:all"), set(&[95001, 95002, 95003, 95004]));
    assert_eq!(
        found("people_number:all"),
        set(&[95001, 95002, 95003, 95004])
    );
    assert_eq!(found("people_number:people_0"), set(&[95001, 95004]));
    assert_eq!(found("people_number:people_any"), set(&[95002, 95003]));
    assert_eq!(found("people_number:people_2"), set(&[95002]));
    assert_eq!(found("people_number:people_7"), set(&[]));
    assert_eq!(found("people_gender:f"), set(&[95002, 95003]));
    assert_eq!(found("people_gender:m"), set(&[95002]));
    assert_eq!(found("people_ethnicity:a"), set(&[95002]));
    assert_eq!(found("people_ethnicity: e, f"), set(&[95002, 95003]));
    assert_eq!(
        found("people_ethnicity:zz"),
        set(&[]),
        "no data: no hits, no 400"
    );
    assert_eq!(found("type:photos"), set(&[95002, 95003]));
    assert_eq!(found("type:illustrations,vectors"), set(&[95001, 95004]));
    assert_eq!(found("type:all"), set(&[95001, 95002, 95003, 95004]));
    assert_eq!(found("license:editorial"), set(&[95002]));
    assert_eq!(found("license:commercial"), set(&[95001, 95003, 95004]));
    assert_eq!(found("color:ff0000"), set(&[95002]));
    assert_eq!(found("color:ee1111;color_tolerance:10"), set(&[]));
    assert_eq!(found("color:ee1111;color_tolerance:40"), set(&[95002]));
    assert_eq!(found("color:0000ff,00ff00"), set(&[95001, 95003]));

    let r = post(
        &s,
        &demo,
        None,
        "1.2",
        "search",
        &[
            ("q", "95002"),
            ("extra_info", EXTRA_V1_2),
            ("filter", "author:clara.test"),
        ],
    );
    let v = json_ok(&r);
    let m = &v["items"]["media"];
    assert_eq!(m["id"], "95002");
    assert_eq!(m["type"], "photos");
    assert_eq!(m["license"], "editorial");
    assert_eq!(m["editorial"], "yes");
    assert_eq!(m["people_number"], "2");
    assert_eq!(m["orientation"], "vertical");
    assert_eq!(m["isolated"], "yes");
    assert_eq!(m["collection"], "premium");
    assert_eq!(m["premium"], "yes");
    assert_eq!(m["contributor"], "clara.test");
    assert_eq!(m["author-realname"], "Clara Test");
    assert_eq!(m["packet"], "no");
    assert_eq!(m["spx"], "no");
    let r = post(
        &s,
        &demo,
        None,
        "1.0",
        "search",
        &[("q", "95001"), ("extra_info", "orientation,color,type")],
    );
    let v = json_ok(&r);
    assert_eq!(v["items"]["media"]["orientation"], "panorama");
    assert_eq!(v["items"]["media"]["color"], "00ff00");
    assert_eq!(v["items"]["media"]["type"], "illustrations");
}

#[test]
fn get_search_filter_lists_the_vocabulary_in_every_content_language() {
    let s = Server::start();
    let demo = s.demo.clone().unwrap();
    let filters = |lang: &str| -> Vec<Value> {
        let r = post(
            &s,
            &demo,
            None,
            "1.0",
            "get-search-filter",
            &[("lang", lang)],
        );
        list(&json_ok(&r)["filters"]["filter"])
    };
    let en = filters("en");
    let names: Vec<&str> = en.iter().map(|f| f["name"].as_str().unwrap()).collect();
    for name in [
        "sort",
        "type",
        "license",
        "orientation",
        "people_number",
        "people_gender",
        "people_ethnicity",
        "color",
        "color_tolerance",
        "author",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let by_name = |fs: &[Value], n: &str| fs.iter().find(|f| f["name"] == n).cloned().unwrap();
    let values = |f: &Value| -> Vec<String> {
        list(&f["value"])
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(values(&by_name(&en, "sort"))[..3], ["rel", "date", "buy"]);
    assert_eq!(
        values(&by_name(&en, "orientation")),
        ["all", "vertical", "horizontal", "square", "panorama"]
    );
    assert_eq!(
        values(&by_name(&en, "type")),
        ["all", "photos", "illustrations", "vectors"]
    );
    let people = values(&by_name(&en, "people_number"));
    assert!(["all", "people_0", "people_any", "people_1"]
        .iter()
        .all(|p| people.iter().any(|x| x == p)));
    assert_eq!(by_name(&en, "color")["type"], "hexcode");
    assert_eq!(by_name(&en, "author")["type"], "string");
    let sort = list(&by_name(&en, "sort")["value"]);
    assert_eq!(
        sort[0]["aliases"], "relevance",
        "our former ids stay aliases"
    );
    assert_eq!(sort[0]["name"], "Relevance");
    let mut titles = BTreeSet::new();
    for lang in ["da", "de", "en", "es", "it", "pl", "pt"] {
        let fs = filters(lang);
        assert_eq!(fs.len(), en.len());
        for f in &fs {
            assert!(
                f["title"].as_str().is_some_and(|t| !t.is_empty()),
                "{lang}: {f}"
            );
            for v in list(&f["value"]) {
                assert!(
                    v["name"].as_str().is_some_and(|t| !t.is_empty()),
                    "{lang}: {v}"
                );
            }
        }
        titles.insert(
            by_name(&fs, "people_number")["title"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(titles.len() >= 6, "translated: {titles:?}");
    assert_eq!(by_name(&filters("de"), "sort")["title"], "Sortierung");
    // every listed value is accepted by search
    for f in &en {
        for v in values(f) {
            let filter = format!("{}: {v};", f["name"].as_str().unwrap());
            let r = post(&s, &demo, None, "1.0", "search", &[("filters", &filter)]);
            assert_eq!(r.status, 200, "{filter}: {}", r.body);
        }
    }
}

/// A user with an api key of their own, signed in through the real
/// authorization page: (credentials, token).
fn contributor(s: &Server, name: &str) -> (Credentials, UserToken) {
    cli_ok(
        s,
        &[
            "users",
            "create",
            "--username",
            name,
            "--email",
            &format!("{name}@example.com"),
            "--password",
            "Correct-Horse-42",
        ],
    );
    let out = cli_ok(
        s,
        &[
            "keys", "create", "--name", "ftp app", "--owner", name, "--json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let creds = Credentials {
        api_key: v["api_key"].as_str().unwrap().into(),
        api_secret: v["api_secret"].as_str().unwrap().into(),
        algo: panthera::protocol::signature::Algo::Sha1,
    };
    let (_, token) = crate::media::signed_in(s, &creds, name, "Correct-Horse-42");
    (creds, token)
}

fn filenames(v: &Value) -> Vec<String> {
    list(v)
        .iter()
        .map(|f| match f {
            Value::String(s) => s.clone(),
            other => other["_content"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn the_upload_inbox_imports_good_files_and_keeps_bad_ones() {
    // originals go to a folder of their own (several instances share one)
    let originals = tempfile::tempdir().unwrap();
    let s = Server::start_tls_with(&format!(
        "[media]\ninbox_max_file_bytes = 30000\noriginals_dir = \"{}\"\n",
        originals.path().display()
    ));
    let (creds, token) = contributor(&s, "clara");
    let ftp = |params: &[(&str, &str)]| {
        json_ok(&post(
            &s,
            &creds,
            Some(&token),
            "1.0",
            "get-user-ftp-list",
            params,
        ))
    };

    // request-token takes ftp_access and echoes it
    let tls = panthera::client::Client::new(s.tls_base.as_deref().unwrap(), creds.clone())
        .with_ca_pem(&s.cert_pem())
        .unwrap();
    let r = tls
        .call(
            None,
            "request-token",
            &[
                ("token_secret", "x"),
                ("app_name", "FTP app"),
                ("ftp_access", "yes"),
                ("content_type", "application/json"),
            ],
        )
        .unwrap();
    assert_eq!(json_ok(&r)["ftp_access"], "yes");

    // an empty inbox
    let v = ftp(&[]);
    assert_eq!(
        v["token"],
        token.auth_token.as_str(),
        "the caller's token first"
    );
    assert_eq!(v["ftp"]["total"], "0");

    let files = s.dir.join("uploads");
    std::fs::create_dir_all(&files).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = files.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let good1 = panthera::media::image::render(1, "red", 300, 200, false);
    let good2 = panthera::media::image::render(2, "blue", 200, 400, false);
    let mut big = panthera::media::image::render(3, "green", 100, 100, false);
    big.resize(40_000, 0);
    let paths = [
        write("good_fox.jpg", &good1),
        write("good2.jpg", &good2),
        write("big.jpg", &big),
        write("notes.jpg", b"not a picture at all"),
    ];
    let mut args = vec!["media", "inbox", "clara"];
    args.extend(paths.iter().map(String::as_str));
    cli_ok(&s, &args);
    // a file already waiting is refused by the CLI
    let again = s.cli(&["media", "inbox", "clara", &paths[1]]);
    assert!(!again.status.success());

    let v = ftp(&[]);
    assert_eq!(v["ftp"]["total"], "4");
    assert_eq!(
        filenames(&v["ftp"]["filename"]),
        ["big.jpg", "good2.jpg", "good_fox.jpg", "notes.jpg"]
    );
    let v = ftp(&[("offset", "1"), ("limit", "1")]);
    assert_eq!(v["ftp"]["filename"], "good2.jpg", "single child = a string");
    let (st, body) = {
        let nonce = random_nonce();
        let mut form = sign_user_params(&creds, &token, now_unix(), &nonce);
        form.push(("limit".into(), "2".into()));
        let body = serde_urlencoded::to_string(&form).unwrap();
        let r = raw_post(
            &s.addr,
            "/get-user-ftp-list",
            "Accept-Version: 1.0\r\n",
            "application/x-www-form-urlencoded",
            &body,
        );
        (r.status, r.body)
    };
    assert_eq!(st, 200, "{body}");
    assert!(
        body.contains("<ftp total=\"4\" items=\"2\"><filename><![CDATA[big.jpg]]></filename>"),
        "{body}"
    );

    let v = ftp(&[("process", "yes")]);
    let queue = list(&v["queue"]["filename"]);
    assert_eq!(queue.len(), 4, "{v}");
    let by = |name: &str| {
        queue
            .iter()
            .find(|f| f["_content"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(by("good_fox.jpg")["stat"], "ok");
    assert_eq!(by("good2.jpg")["stat"], "ok");
    assert_eq!(by("big.jpg")["stat"], "fail");
    assert!(
        by("big.jpg")["error"].as_str().unwrap().contains("size"),
        "{v}"
    );
    assert_eq!(by("notes.jpg")["stat"], "fail");
    assert!(
        by("notes.jpg")["error"].as_str().unwrap().contains("JPEG"),
        "{v}"
    );
    let id = by("good_fox.jpg")["id-media"].as_str().unwrap().to_string();

    // the bad files stay, the good ones left
    let v = ftp(&[]);
    assert_eq!(filenames(&v["ftp"]["filename"]), ["big.jpg", "notes.jpg"]);
    let kept = std::fs::read(originals.path().join(format!("{id}.jpg"))).unwrap();
    assert!(!s.dir.join("originals").exists());
    assert_eq!(kept, good1, "the original is kept byte for byte");

    // they are the user's new media, waiting for review
    let r = post(
        &s,
        &creds,
        Some(&token),
        "1.0",
        "get-user-media-list",
        &[("state[]", "yellow")],
    );
    let v = json_ok(&r);
    let mine = list(&v["media"]["m"]);
    let fox = mine.iter().find(|m| m["id"] == id.as_str()).unwrap();
    assert_eq!(fox["filename"], "good_fox.jpg");
    assert_eq!(fox["state"], "yellow");
    let r = post(
        &s,
        &creds,
        Some(&token),
        "1.0",
        "get-user-media-metadata",
        &[("id_media", &id)],
    );
    assert_eq!(json_ok(&r)["metadata"]["title"], "good fox");

    // the same name again is a duplicate: refused, left in the inbox
    cli_ok(&s, &["media", "inbox", "clara", &paths[0]]);
    let v = ftp(&[("process", "yes"), ("offset", "1"), ("limit", "1")]);
    let f = &v["queue"]["filename"];
    assert_eq!(
        (f["_content"].as_str(), f["stat"].as_str()),
        (Some("good_fox.jpg"), Some("fail"))
    );
    assert!(f["error"].as_str().unwrap().contains("duplicate"), "{v}");
    let v = ftp(&[]);
    assert_eq!(
        filenames(&v["ftp"]["filename"]),
        ["big.jpg", "good_fox.jpg", "notes.jpg"]
    );

    // another user's inbox is their own
    let (bob, bob_token) = contributor(&s, "bobby");
    let r = post(&s, &bob, Some(&bob_token), "1.0", "get-user-ftp-list", &[]);
    assert_eq!(json_ok(&r)["ftp"]["total"], "0");
    // and the method needs a user
    let r = post(&s, &creds, None, "1.0", "get-user-ftp-list", &[]);
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn new_methods_and_parameters_are_in_the_registry_docs() {
    let s = Server::start();
    let demo = s.demo.clone().unwrap();
    for (method, needle) in [
        ("get-user-ftp-list", "process"),
        ("request-token", "ftp_access"),
        ("search", "filter"),
        ("search", "datasets_ai_content"),
        ("search-similar", "filters"),
    ] {
        let r = post(
            &s,
            &demo,
            None,
            "1.0",
            "get-method-info",
            &[("method", method)],
        );
        let v = json_ok(&r);
        assert!(v.to_string().contains(needle), "{method}: {v}");
        let page = crate::helpers::get(&s.addr, &format!("/{method}"));
        assert_eq!(page.status, 200);
        assert!(page.body.contains(needle), "{method} page lacks {needle}");
    }
}
