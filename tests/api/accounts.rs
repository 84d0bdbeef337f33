//! Account administration (methods.md §C) over real HTTP: roles, the five
//! methods, concurrency, idempotent retries and the audit trail.

use std::collections::HashSet;

use panthera::client::Client;
use panthera::protocol::timestamp::Timestamp;
use serde_json::Value;

use crate::helpers::Server;

const PASSWORD: &str = "Correct-Horse-42";

/// Accounts a fresh demo database has: `demo` and `alice` (src/demo.rs).
const DEMO_USERS: i64 = 2;

/// Calls with JSON answers.
fn json(c: &Client, method: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut p = params.to_vec();
    p.push(("content_type", "application/json"));
    let r = c.call(None, method, &p).expect("call");
    let v = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    (r.status, v)
}

/// Creates an account and returns it (JSON object).
fn create(c: &Client, username: &str, email: &str, extra: &[(&str, &str)]) -> Value {
    let mut p = vec![
        ("username", username),
        ("email", email),
        ("password", PASSWORD),
    ];
    p.extend_from_slice(extra);
    let (status, v) = json(c, "create-user", &p);
    assert_eq!(status, 200, "{v}");
    v["user"].clone()
}

/// The error message of a failed JSON answer, after checking its code.
fn err(status: u16, v: &Value, code: u16) -> String {
    assert_eq!(status, code, "{v}");
    assert_eq!(v["stat"], "fail");
    assert_eq!(v["err"]["code"], code);
    v["err"]["msg"].as_str().expect("msg").to_string()
}

fn total(c: &Client, status: Option<&str>) -> i64 {
    let mut p = vec![("limit", "1")];
    if let Some(s) = status {
        p.push(("status", s));
    }
    let (code, v) = json(c, "get-users", &p);
    assert_eq!(code, 200, "{v}");
    v["users"]["total"]
        .as_str()
        .expect("total")
        .parse()
        .expect("number")
}

/// The audit trail as the CLI prints it, newest first.
fn audit(s: &Server) -> Vec<Value> {
    let out = s.cli(&["audit", "--json", "--limit", "1000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("json")
        .as_array()
        .expect("array")
        .clone()
}

/// `user` elements of a page: one is an object, several an array.
fn users_of(page: &Value) -> Vec<Value> {
    match &page["users"]["user"] {
        Value::Array(a) => a.clone(),
        Value::Object(_) => vec![page["users"]["user"].clone()],
        _ => vec![],
    }
}

#[test]
fn keys_without_the_admin_role_are_refused_with_a_normal_403() {
    let s = Server::start();
    let demo = s.client();
    for (method, params) in [
        ("get-users", vec![]),
        ("get-user", vec![]),
        (
            "create-user",
            vec![
                ("username", "mallory"),
                ("email", "m@example.com"),
                ("password", PASSWORD),
            ],
        ),
        ("delete-user", vec![("id", "usr_0000000000000000")]),
    ] {
        let (status, v) = json(&demo, method, &params);
        let msg = err(status, &v, 403);
        assert_eq!(
            msg, "this method needs an api key with the admin role",
            "{method}"
        );
    }
    // XML too, and nothing was created
    let r = demo.call(None, "get-users", &[]).unwrap();
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<err code=\"403\""), "{}", r.body);
    assert_eq!(total(&s.admin(), None), DEMO_USERS, "only the demo users");
    // the service methods stay open to every key
    assert_eq!(demo.call(None, "host-info", &[]).unwrap().status, 200);
}

#[test]
fn create_get_update_delete() {
    let s = Server::start();
    let admin = s.admin();
    let u = create(
        &admin,
        "jane.doe",
        "Jane.Doe@Example.com",
        &[
            ("firstname", "Jane"),
            ("surname", "Doe"),
            ("company", "ACME"),
        ],
    );
    let id = u["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("usr_") && id.len() == 20, "{id}");
    assert_eq!(u["username"], "jane.doe");
    assert_eq!(u["email"], "Jane.Doe@Example.com");
    assert_eq!(u["status"], "active");
    assert_eq!(
        (&u["firstname"], &u["surname"], &u["company"]),
        (&"Jane".into(), &"Doe".into(), &"ACME".into())
    );
    let created = Timestamp::parse(u["created_at"].as_str().unwrap()).expect("timestamp format");
    assert!((created.unix() - panthera::store::now_unix()).abs() < 10);
    assert_eq!(u["created_at"], u["updated_at"]);
    assert!(u.get("password").is_none() && !u.to_string().contains(PASSWORD));

    let (status, v) = json(&admin, "get-user", &[("id", &id)]);
    assert_eq!(status, 200);
    assert_eq!(v["user"], u);
    // XML: attributes on <user/>
    let r = admin.call(None, "get-user", &[("id", &id)]).unwrap();
    assert!(
        r.body.contains(&format!(
            "<user id=\"{id}\" username=\"jane.doe\" email=\"Jane.Doe@Example.com\""
        )),
        "{}",
        r.body
    );

    let (status, v) = json(
        &admin,
        "update-user",
        &[
            ("id", &id),
            ("status", "inactive"),
            ("company", ""),
            ("password", "Another-Pass-7"),
        ],
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["user"]["status"], "inactive");
    assert_eq!(v["user"]["company"], "");
    assert_eq!(v["user"]["username"], "jane.doe", "untouched fields stay");
    assert_eq!(v["user"]["created_at"], u["created_at"]);

    let r = admin.call(None, "delete-user", &[("id", &id)]).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(&format!("<deleted id=\"{id}\"/>")),
        "{}",
        r.body
    );
    let (status, v) = json(&admin, "get-user", &[("id", &id)]);
    assert!(err(status, &v, 404).contains(&id));
    let (status, v) = json(&admin, "delete-user", &[("id", &id)]);
    err(status, &v, 404);
    let (status, v) = json(&admin, "update-user", &[("id", &id), ("status", "active")]);
    err(status, &v, 404);
}

#[test]
fn invalid_fields_are_422_naming_the_field_and_taken_ones_409() {
    let s = Server::start();
    let admin = s.admin();
    create(&admin, "taken", "taken@example.com", &[]);
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // username, email, password, field, extra status
        ("Bad Name", "a@example.com", PASSWORD, "username", "active"),
        ("ab", "a@example.com", PASSWORD, "username", "active"),
        ("okname", "not-an-email", PASSWORD, "email", "active"),
        ("okname", "a@example", PASSWORD, "email", "active"),
        ("okname", "a@example.com", "short1A", "password", "active"),
        (
            "okname",
            "a@example.com",
            "alllowercaseletters",
            "password",
            "active",
        ),
        ("okname", "a@example.com", PASSWORD, "status", "deleted"),
    ];
    for (username, email, password, field, status) in cases {
        let (code, v) = json(
            &admin,
            "create-user",
            &[
                ("username", username),
                ("email", email),
                ("password", password),
                ("status", status),
            ],
        );
        let msg = err(code, &v, 422);
        assert!(msg.contains(&format!("'{field}'")), "{field}: {msg}");
        assert!(
            !msg.contains(password) || *field != "password",
            "passwords are not echoed"
        );
    }
    // missing required parameters are 400
    let (code, v) = json(
        &admin,
        "create-user",
        &[("username", "x1x"), ("email", "x@example.com")],
    );
    assert!(err(code, &v, 400).contains("password"));
    // taken: username exactly, email case-insensitively
    let (code, v) = json(
        &admin,
        "create-user",
        &[
            ("username", "taken"),
            ("email", "new@example.com"),
            ("password", PASSWORD),
        ],
    );
    assert!(err(code, &v, 409).contains("username"));
    let (code, v) = json(
        &admin,
        "create-user",
        &[
            ("username", "fresh"),
            ("email", "TAKEN@Example.COM"),
            ("password", PASSWORD),
        ],
    );
    assert!(err(code, &v, 409).contains("email"));

    // update: the same rules, and another account's username/email is 409
    let other = create(&admin, "other", "other@example.com", &[]);
    let oid = other["id"].as_str().unwrap();
    for (field, value, code) in [
        ("email", "broken@", 422),
        ("username", "UPPER", 422),
        ("status", "banned", 422),
        ("firstname", &"x".repeat(101), 422),
        ("email", "Taken@example.com", 409),
        ("username", "taken", 409),
    ] {
        let (status, v) = json(&admin, "update-user", &[("id", oid), (field, value)]);
        let msg = err(status, &v, code);
        assert!(msg.contains(field), "{field}: {msg}");
    }
    // changing the case of one's own email is not a conflict
    let (status, v) = json(
        &admin,
        "update-user",
        &[("id", oid), ("email", "OTHER@example.com")],
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = json(&admin, "update-user", &[]);
    assert!(err(status, &v, 400).contains("id"));
    let (status, v) = json(&admin, "get-users", &[("limit", "101")]);
    assert!(err(status, &v, 400).contains("limit"));
    let (status, v) = json(&admin, "get-users", &[("status", "gone")]);
    assert!(err(status, &v, 422).contains("status"));
}

#[test]
fn pages_are_stable_and_total_follows_the_status_filter() {
    let s = Server::start();
    let admin = s.admin();
    for i in 0..9 {
        let status = if i % 3 == 0 { "pending" } else { "active" };
        create(
            &admin,
            &format!("user{i}"),
            &format!("user{i}@example.com"),
            &[("status", status)],
        );
    }
    // 9 + the demo users
    let n = 9 + DEMO_USERS;
    let (_, all) = json(&admin, "get-users", &[]);
    assert_eq!(all["users"]["total"], n.to_string());
    assert_eq!(all["users"]["limit"], "100");
    assert_eq!(all["users"]["offset"], "0");
    let all_ids: Vec<Value> = users_of(&all).iter().map(|u| u["id"].clone()).collect();
    assert_eq!(all_ids.len(), n as usize);
    let mut paged = Vec::new();
    for offset in (0..12).step_by(4) {
        let off = offset.to_string();
        let (status, page) = json(&admin, "get-users", &[("limit", "4"), ("offset", &off)]);
        assert_eq!(status, 200);
        assert_eq!(
            page["users"]["total"],
            n.to_string(),
            "total ignores paging"
        );
        paged.extend(users_of(&page).iter().map(|u| u["id"].clone()));
    }
    assert_eq!(
        paged, all_ids,
        "pages concatenate to the full list, no gaps or repeats"
    );
    // oldest first
    let created: Vec<i64> = users_of(&all)
        .iter()
        .map(|u| {
            Timestamp::parse(u["created_at"].as_str().unwrap())
                .unwrap()
                .unix()
        })
        .collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]), "{created:?}");

    assert_eq!(total(&admin, Some("pending")), 3);
    assert_eq!(total(&admin, Some("active")), 6 + DEMO_USERS);
    assert_eq!(total(&admin, Some("inactive")), 0);
    let (_, page) = json(
        &admin,
        "get-users",
        &[("status", "pending"), ("limit", "2"), ("offset", "2")],
    );
    let rest = users_of(&page);
    assert_eq!(rest.len(), 1, "one account on a page is an object: {page}");
    assert_eq!(rest[0]["status"], "pending");
    let (_, empty) = json(&admin, "get-users", &[("offset", "50")]);
    assert_eq!(empty["users"]["total"], n.to_string());
    assert!(users_of(&empty).is_empty());
}

#[test]
fn concurrent_creates_of_one_email_give_one_200_and_409s() {
    let s = Server::start();
    let admin = s.admin();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let c = admin.clone();
                scope.spawn(move || {
                    let username = format!("racer{i}");
                    let email = if i % 2 == 0 {
                        "race@example.com"
                    } else {
                        "RACE@example.com"
                    };
                    json(
                        &c,
                        "create-user",
                        &[
                            ("username", &username),
                            ("email", email),
                            ("password", PASSWORD),
                        ],
                    )
                    .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(total(&admin, None), DEMO_USERS + 1);
}

#[test]
fn idempotent_retries_answer_the_first_result_and_change_nothing() {
    let s = Server::start();
    let admin = s.admin();
    let params = [
        ("username", "once"),
        ("email", "once@example.com"),
        ("password", PASSWORD),
        ("idempotency_key", "order-42"),
    ];
    let first = admin.call(None, "create-user", &params).unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    let again = admin.call(None, "create-user", &params).unwrap();
    assert_eq!(
        (again.status, &again.body),
        (200, &first.body),
        "same status and body"
    );
    // the stored answer serves either encoding
    let (status, v) = json(&admin, "create-user", &params);
    assert_eq!(status, 200);
    let once_id = v["user"]["id"].as_str().unwrap().to_string();
    assert!(first.body.contains(&once_id));
    assert_eq!(total(&admin, None), DEMO_USERS + 1, "created once");
    assert_eq!(
        audit(&s)
            .iter()
            .filter(|e| e["action"] == "create-user")
            .count(),
        1
    );

    // the same key with other parameters is refused
    for (i, changed) in [
        ("email", "other@example.com"),
        ("password", "Other-Pass-99"),
    ]
    .iter()
    .enumerate()
    {
        let mut p = params.to_vec();
        p[if i == 0 { 1 } else { 2 }] = *changed;
        let (status, v) = json(&admin, "create-user", &p);
        assert!(
            err(status, &v, 422).contains("idempotency_key"),
            "{changed:?}"
        );
    }
    let (status, v) = json(
        &admin,
        "update-user",
        &[
            ("id", "usr_0000000000000000"),
            ("idempotency_key", "order-42"),
        ],
    );
    assert!(
        err(status, &v, 422).contains("idempotency_key"),
        "another method"
    );

    // an error answer is repeated as well, even once the cause is gone
    let clash = [
        ("username", "once"),
        ("email", "clash@example.com"),
        ("password", PASSWORD),
        ("idempotency_key", "order-43"),
    ];
    let (status, v1) = json(&admin, "create-user", &clash);
    err(status, &v1, 409);
    assert_eq!(json(&admin, "delete-user", &[("id", &once_id)]).0, 200);
    let (status, v2) = json(&admin, "create-user", &clash);
    assert_eq!((status, &v2), (409, &v1));

    // keys are per api key, and malformed keys are 400
    let other_admin = s.admin();
    let (status, v) = json(&other_admin, "create-user", &params);
    assert_eq!(status, 200, "another api key's namespace: {v}");
    let long = "k".repeat(256);
    let (status, v) = json(
        &admin,
        "delete-user",
        &[("id", "usr_0000000000000000"), ("idempotency_key", &long)],
    );
    assert!(err(status, &v, 400).contains("idempotency_key"));
    // methods that change nothing ignore the key
    let (status, _) = json(&admin, "get-users", &[("idempotency_key", "order-42")]);
    assert_eq!(status, 200);
}

#[test]
fn concurrent_retries_with_one_key_execute_once() {
    let s = Server::start();
    let admin = s.admin();
    let replies: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let c = admin.clone();
                scope.spawn(move || {
                    let r = c
                        .call(
                            None,
                            "create-user",
                            &[
                                ("username", "single"),
                                ("email", "single@example.com"),
                                ("password", PASSWORD),
                                ("idempotency_key", "same-key"),
                            ],
                        )
                        .unwrap();
                    (r.status, r.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let oks: HashSet<&String> = replies
        .iter()
        .filter(|r| r.0 == 200)
        .map(|r| &r.1)
        .collect();
    assert_eq!(oks.len(), 1, "every 200 is the same answer: {replies:?}");
    for (status, body) in &replies {
        assert!(
            *status == 200 || (*status == 409 && body.contains("in progress")),
            "{status}: {body}"
        );
    }
    assert_eq!(total(&admin, None), DEMO_USERS + 1, "one account created");
    assert_eq!(
        audit(&s)
            .iter()
            .filter(|e| e["action"] == "create-user")
            .count(),
        1
    );
    // once it finished, a retry gets that one answer
    let again = admin
        .call(
            None,
            "create-user",
            &[
                ("username", "single"),
                ("email", "single@example.com"),
                ("password", PASSWORD),
                ("idempotency_key", "same-key"),
            ],
        )
        .unwrap();
    assert_eq!(again.status, 200);
    assert!(oks.contains(&again.body));
}

#[test]
fn every_successful_change_writes_one_audit_row_and_failures_none() {
    let s = Server::start();
    let creds = s.create_admin_key();
    let admin = Client::new(&s.base, creds.clone());
    assert!(audit(&s).is_empty());
    let u = create(
        &admin,
        "audited",
        "audited@example.com",
        &[("firstname", "Au")],
    );
    let id = u["id"].as_str().unwrap();
    let rows = audit(&s);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["action"], "create-user");
    assert_eq!(rows[0]["actor"], creds.api_key.as_str());
    assert_eq!(rows[0]["user_id"], id);
    assert_eq!(
        rows[0]["changes"],
        serde_json::json!(["username", "email", "password", "status", "firstname"])
    );
    assert!(!rows[0]["request_id"].as_str().unwrap().is_empty());
    Timestamp::parse(rows[0]["at"].as_str().unwrap()).expect("timestamp format");

    // failures leave no row: 409, 422, 404, 403
    let dup = [
        ("username", "audited"),
        ("email", "x@example.com"),
        ("password", PASSWORD),
    ];
    assert_eq!(json(&admin, "create-user", &dup).0, 409);
    assert_eq!(
        json(&admin, "update-user", &[("id", id), ("email", "bad")]).0,
        422
    );
    assert_eq!(
        json(&admin, "delete-user", &[("id", "usr_0000000000000000")]).0,
        404
    );
    assert_eq!(json(&s.client(), "delete-user", &[("id", id)]).0, 403);
    // an update that changes nothing is no change
    assert_eq!(
        json(
            &admin,
            "update-user",
            &[("id", id), ("username", "audited")]
        )
        .0,
        200
    );
    assert_eq!(audit(&s).len(), 1);

    let secret = "Brand-New-Secret-5";
    assert_eq!(
        json(
            &admin,
            "update-user",
            &[("id", id), ("status", "pending"), ("password", secret)]
        )
        .0,
        200
    );
    assert_eq!(json(&admin, "delete-user", &[("id", id)]).0, 200);
    let rows = audit(&s);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["action"], "update-user");
    assert_eq!(
        rows[1]["changes"],
        serde_json::json!(["password", "status"])
    );
    assert_eq!(
        (&rows[0]["action"], &rows[0]["user_id"]),
        (&"delete-user".into(), &id.into())
    );
    let printed = String::from_utf8_lossy(&s.cli(&["audit"]).stdout).to_string();
    assert!(
        printed.contains("delete-user") && printed.contains(id),
        "{printed}"
    );
    assert!(!printed.contains(secret) && !printed.contains(PASSWORD));
}

#[test]
fn docs_and_method_info_show_role_idempotency_and_errors() {
    let s = Server::start();
    let page = crate::helpers::get(&s.addr, "/v1.0/create-user");
    assert_eq!(page.status, 200);
    for needle in [
        "admin required",
        "idempotency_key",
        "409",
        "422",
        "jane.doe",
    ] {
        assert!(page.body.contains(needle), "{needle}");
    }
    let (status, v) = json(&s.client(), "get-method-info", &[("method", "delete-user")]);
    assert_eq!(status, 200);
    assert_eq!(v["method"]["admin"], "yes");
    assert_eq!(v["method"]["idempotent"], "yes");
    let codes: Vec<&str> = v["method"]["errors"]["error"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"404") && codes.contains(&"403"),
        "{codes:?}"
    );
    // each sample runs against a fresh demo database as documented
    let admin = s.admin();
    for m in [
        "get-users",
        "get-user",
        "create-user",
        "update-user",
        "delete-user",
    ] {
        let (_, info) = json(&s.client(), "get-method-info", &[("method", m)]);
        let sample: Vec<(String, String)> = match &info["method"]["sample"]["param"] {
            Value::Array(a) => a.clone(),
            Value::Object(_) => vec![info["method"]["sample"]["param"].clone()],
            _ => vec![],
        }
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["value"].as_str().unwrap().into(),
            )
        })
        .collect();
        let params: Vec<(&str, &str)> = sample
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, v) = json(&admin, m, &params);
        assert_eq!(status, 200, "{m}: {v}");
    }
}
