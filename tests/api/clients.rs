//! The README's client examples, run for real: curl + openssl, Python's hmac,
//! PHP's hash_hmac with curl (urlencoded and multipart). `.ci/run` installs
//! their runtimes; a missing runtime fails the test rather than skipping it.

use crate::helpers::Server;

fn run_example(s: &Server, program: &str, script: &str) -> String {
    let path = format!("{}/examples/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = s.run_client(program, std::path::Path::new(&path));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{program} {script} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn curl_and_openssl() {
    let s = Server::start();
    let out = run_example(&s, "sh", "host-info.sh");
    assert!(out.contains("<rsp stat=\"ok\">"), "{out}");
}

#[test]
fn python_standard_library() {
    let s = Server::start();
    let out = run_example(&s, "python3", "host_info.py");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json answer");
    assert_eq!(v["stat"], "ok");
}

#[test]
fn php_as_the_original_clients_do_it() {
    let s = Server::start();
    let out = run_example(&s, "php", "host-info.php");
    assert!(out.contains("<rsp stat=\"ok\">"), "{out}");
    assert!(
        out.contains("{\"stat\":\"ok\",\"method\":"),
        "multipart call: {out}"
    );
}
