//! `panthera users …` and `panthera audit` through the binary, next to a
//! running server that sees the same accounts.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::helpers::{Server, BIN};

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Runs the CLI with `input` on standard input.
fn cli_stdin(s: &Server, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .envs(crate::helpers::store_env(&s.dir))
        .args(args)
        .arg("--data-dir")
        .arg(&s.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn users_can_be_created_listed_shown_and_changed_from_the_cli() {
    let s = Server::start();
    let out = s.cli(&[
        "users",
        "create",
        "--username",
        "ops",
        "--email",
        "Ops@Example.com",
        "--password",
        "Correct-Horse-42",
        "--firstname",
        "Op",
        "--json",
    ]);
    let user: Value = serde_json::from_str(&ok(&out)).expect("json");
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["status"], "active");
    assert_eq!(user["firstname"], "Op");
    assert!(!user.to_string().contains("Correct-Horse-42"));

    // the running server sees it
    let (status, v) = {
        let r = s
            .admin()
            .call(
                None,
                "get-user",
                &[("id", &id), ("content_type", "application/json")],
            )
            .unwrap();
        (r.status, serde_json::from_str::<Value>(&r.body).unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(v["user"], user);

    let list: Value = serde_json::from_str(&ok(&s.cli(&["users", "list", "--json"]))).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    let mut names = names;
    names.sort_unstable();
    assert_eq!(names, vec!["alice", "demo", "ops"]);
    let pending = ok(&s.cli(&["users", "list", "--status", "pending", "--json"]));
    assert_eq!(pending.trim(), "[]");
    assert!(ok(&s.cli(&["users", "list"])).contains("ops"));
    failed(&s.cli(&["users", "list", "--status", "gone"]));

    // show by id and by username
    for who in [id.as_str(), "ops"] {
        let shown: Value =
            serde_json::from_str(&ok(&s.cli(&["users", "show", who, "--json"]))).unwrap();
        assert_eq!(shown["id"], id.as_str());
    }
    assert!(ok(&s.cli(&["users", "show", "ops"])).contains("Ops@Example.com"));
    assert!(failed(&s.cli(&["users", "show", "nobody"])).contains("not found"));

    // set-password from stdin and from the flag; weak ones are refused
    ok(&cli_stdin(
        &s,
        &["users", "set-password", "ops", "--password-stdin"],
        "Stdin-Secret-77\n",
    ));
    ok(&s.cli(&["users", "set-password", &id, "--password", "Flag-Secret-88"]));
    assert!(
        failed(&s.cli(&["users", "set-password", "ops", "--password", "weak"]))
            .contains("password")
    );
    failed(&s.cli(&["users", "set-password", "ops"]));

    ok(&s.cli(&["users", "disable", "ops"]));
    let shown: Value =
        serde_json::from_str(&ok(&s.cli(&["users", "show", "ops", "--json"]))).unwrap();
    assert_eq!(shown["status"], "inactive");
    assert!(ok(&s.cli(&["users", "disable", "ops"])).contains("already inactive"));

    // every CLI change is audited with the actor "cli", never a password
    let out = ok(&s.cli(&["audit", "--json"]));
    assert!(
        !out.contains("Secret") && !out.contains("Correct-Horse"),
        "{out}"
    );
    let rows: Value = serde_json::from_str(&out).unwrap();
    let rows = rows.as_array().unwrap();
    let summary: Vec<(&str, &str, Value)> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["actor"], "cli");
            assert_eq!(r["user_id"], id.as_str());
            (
                r["action"].as_str().unwrap(),
                r["request_id"].as_str().unwrap(),
                r["changes"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("update-user", "", serde_json::json!(["status"])),
            ("update-user", "", serde_json::json!(["password"])),
            ("update-user", "", serde_json::json!(["password"])),
            (
                "create-user",
                "",
                serde_json::json!(["username", "email", "password", "status", "firstname"])
            ),
        ]
    );
    let limited: Value =
        serde_json::from_str(&ok(&s.cli(&["audit", "--json", "--limit", "1"]))).unwrap();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    assert!(ok(&s.cli(&["audit"])).contains("create-user"));
}

#[test]
fn the_cli_applies_the_same_rules_as_the_api() {
    let s = Server::start();
    let create = |username: &str, email: &str, password: &str| {
        s.cli(&[
            "users",
            "create",
            "--username",
            username,
            "--email",
            email,
            "--password",
            password,
        ])
    };
    assert!(
        failed(&create("Bad Name", "a@example.com", "Correct-Horse-42")).contains("'username'")
    );
    assert!(failed(&create("okay", "nope", "Correct-Horse-42")).contains("'email'"));
    assert!(failed(&create("okay", "a@example.com", "tooweak")).contains("'password'"));
    assert!(failed(&create("demo", "a@example.com", "Correct-Horse-42")).contains("username"));
    assert!(failed(&create("okay", "DEMO@example.com", "Correct-Horse-42")).contains("email"));
    assert!(failed(&s.cli(&[
        "users",
        "create",
        "--username",
        "okay",
        "--email",
        "a@example.com",
        "--password",
        "Correct-Horse-42",
        "--status",
        "banned"
    ]))
    .contains("'status'"));
    // nothing was written, not even to the audit trail
    assert_eq!(ok(&s.cli(&["audit", "--json"])).trim(), "[]");
    let out = cli_stdin(
        &s,
        &[
            "users",
            "create",
            "--username",
            "piped",
            "--email",
            "p@example.com",
            "--password-stdin",
        ],
        "Piped-Password-1\r\n",
    );
    assert!(ok(&out).contains("piped"));
}
