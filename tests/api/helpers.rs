//! Spawns the real `panthera` binary on a free port with a fresh data
//! directory, and talks to it over real HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use panthera::client::{Client, Credentials, Reply};
use panthera::protocol::signature::Algo;

pub const BIN: &str = env!("CARGO_BIN_EXE_panthera");

/// A loopback address no one listens on right now, for a process that
/// must be given its address up front (nginx, an instance restarted in place).
pub fn free_addr() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.to_string())
        .expect("a free port")
}

/// Whether the whole suite runs on PostgreSQL (`PANTHERA_TEST_BACKEND=postgres`,
/// the second pass of `scripts/test`). Tests of what only the SQLite file
/// has (its bytes on disk, backup/restore/check, one server per directory)
/// return early then.
pub fn on_postgres() -> bool {
    std::env::var("PANTHERA_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// Runs one SQL command with `psql` against `url`.
pub fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qtAc", sql])
        .output()
        .expect("run psql (Debian's postgresql-client; scripts/test installs it)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new database `<prefix>_<random>` on the server of `admin` (a URL with
/// a database): its name and its URL.
pub fn create_database(admin: &str, prefix: &str) -> (String, String) {
    let name = format!(
        "{prefix}_{}",
        panthera::client::random_nonce()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect::<String>()
            .to_lowercase()
    );
    let (server, _) = admin.rsplit_once('/').expect("a URL with a database");
    psql(admin, &format!("CREATE DATABASE {name}"));
    let url = format!("{server}/{name}");
    (name, url)
}

/// The store settings for a server or command on data directory `dir`: on
/// PostgreSQL, a database of the directory's own (made on first use, its URL
/// kept in `dir/test-database`, so restarts find it); nothing on SQLite.
pub fn store_env(dir: &Path) -> Vec<(&'static str, String)> {
    if !on_postgres() {
        return Vec::new();
    }
    let admin = std::env::var("PANTHERA_TEST_DATABASE_URL")
        .expect("PANTHERA_TEST_BACKEND=postgres needs PANTHERA_TEST_DATABASE_URL");
    let file = dir.join("test-database");
    let url = match std::fs::read_to_string(&file) {
        Ok(url) => url.trim().to_string(),
        Err(_) => {
            let (_, url) = create_database(&admin, "suite");
            std::fs::create_dir_all(dir).expect("data dir");
            std::fs::write(&file, &url).expect("test-database");
            url
        }
    };
    vec![
        ("PANTHERA_STORE__BACKEND", "postgres".to_string()),
        ("PANTHERA_STORE__URL", url),
    ]
}

/// A running server process; killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub addr: String,
    /// Every bound address (several when started with several `--listen`).
    pub addrs: Vec<String>,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    /// The demo credentials printed at first start (if this was the first).
    pub demo: Option<Credentials>,
    pub demo_user: Option<(String, String)>,
    /// `https://addr` when started with TLS.
    pub tls_base: Option<String>,
}

impl Server {
    /// A fresh server on a fresh data directory.
    pub fn start() -> Server {
        Server::start_with("")
    }

    /// A fresh server with extra configuration (TOML).
    pub fn start_with(config: &str) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, config);
        s._tmp = Some(tmp);
        s
    }

    /// A fresh server that also serves HTTPS with the self-signed development
    /// certificate, and whose clock the test can shift ([`Server::shift_clock`]).
    pub fn start_tls_with(config: &str) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let config = format!(
            "{config}\n[testing]\nclock_offset_file = \"{}\"\n",
            dir.join("clock-offset").display()
        );
        let mut s = Server::spawn(&dir, &config, &["127.0.0.1:0"], true);
        s._tmp = Some(tmp);
        s
    }

    /// Moves the server clock `secs` ahead of real time (TLS servers only).
    pub fn shift_clock(&self, secs: i64) {
        std::fs::write(self.dir.join("clock-offset"), secs.to_string()).expect("clock offset");
    }

    /// The development certificate of a TLS server.
    pub fn cert_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("tls").join("cert.pem")).expect("cert.pem")
    }

    /// A client for the HTTPS listener with the demo credentials.
    pub fn tls_client(&self) -> Client {
        Client::new(
            self.tls_base.as_deref().expect("TLS server"),
            self.demo.clone().expect("demo"),
        )
        .with_ca_pem(&self.cert_pem())
        .expect("trust the certificate")
    }

    /// A server on an existing data directory (restarts).
    pub fn start_in(dir: &Path, config: &str) -> Server {
        Server::spawn(dir, config, &["127.0.0.1:0"], false)
    }

    /// A server on `dir` listening on `listen` (a fixed address: restarts
    /// keep it, as a load balancer's upstream list needs).
    pub fn start_in_at(dir: &Path, config: &str, listen: &str) -> Server {
        Server::spawn(dir, config, &[listen], false)
    }

    /// A fresh server listening on each of `listen`.
    pub fn start_listening(listen: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut s = Server::spawn(tmp.path(), "", listen, false);
        s._tmp = Some(tmp);
        s
    }

    fn spawn(dir: &Path, config: &str, listen: &[&str], tls: bool) -> Server {
        let config_path = dir.join("test-config.toml");
        std::fs::create_dir_all(dir).expect("data dir");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.join("server.log")).expect("log file");
        let mut cmd = Command::new(BIN);
        cmd.arg("serve");
        for l in listen {
            cmd.args(["--listen", l]);
        }
        cmd.arg("--config").arg(&config_path);
        if tls {
            cmd.args(["--tls-self-signed", "--tls-listen", "127.0.0.1:0"]);
        }
        if !config.contains("backend = \"postgres\"") {
            cmd.envs(store_env(dir));
        }
        let mut child = cmd
            .arg("--data-dir")
            .arg(dir)
            .env("PANTHERA_LOG__LEVEL", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn panthera");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut key, mut secret, mut user, mut tls_addr) = (None, None, None, None);
        let mut addrs = Vec::new();
        // Stdout is a pipe, not a terminal: the first start names the 0600
        // file holding the demo credentials instead of printing them.
        let mut read_banner = |t: &str| {
            if let Some(v) = t.strip_prefix("api_key:") {
                key = Some(v.trim().to_string());
            } else if let Some(v) = t.strip_prefix("api_secret:") {
                secret = Some(v.trim().to_string());
            } else if let Some(v) = t.strip_prefix("user:") {
                let mut parts = v.split_whitespace();
                let name = parts.next().unwrap_or_default().to_string();
                let pw = parts.nth(1).unwrap_or_default().to_string();
                user = Some((name, pw));
            }
        };
        while addrs.len() < listen.len() || (tls && tls_addr.is_none()) {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => {
                    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                    panic!("server exited before listening; log:\n{log}");
                }
            };
            let t = line.trim();
            if let Some(file) = t.split("their credentials are in the file ").nth(1) {
                let text = std::fs::read_to_string(file).expect("the demo credentials file");
                text.lines().for_each(|l| read_banner(l.trim()));
            } else if let Some(rest) = t.split("listening on https://").nth(1) {
                tls_addr = rest.split_whitespace().next().map(str::to_string);
            } else if let Some(rest) = t.split("listening on http://").nth(1) {
                addrs.push(rest.split_whitespace().next().expect("address").to_string());
            }
        }
        let addr = addrs[0].clone();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let demo = match (key, secret) {
            (Some(api_key), Some(api_secret)) => Some(Credentials {
                api_key,
                api_secret,
                algo: Algo::Sha1,
            }),
            _ => None,
        };
        Server {
            child,
            base: format!("http://{addr}"),
            addr,
            addrs,
            dir: dir.to_path_buf(),
            _tmp: None,
            demo,
            demo_user: user,
            tls_base: tls_addr.map(|a| format!("https://{a}")),
        }
    }

    /// A client with the demo credentials.
    pub fn client(&self) -> Client {
        Client::new(&self.base, self.demo.clone().expect("demo credentials"))
    }

    /// A client with the given algorithm.
    pub fn client_algo(&self, algo: Algo) -> Client {
        let mut c = self.demo.clone().expect("demo credentials");
        c.algo = algo;
        Client::new(&self.base, c)
    }

    /// POSTs a ready-made form (tests that craft their own credentials).
    pub fn post(&self, method: &str, form: &[(String, String)]) -> Reply {
        self.client()
            .post_form(&format!("{}/{method}", self.base), form)
            .expect("server reachable")
    }

    /// Runs `program file` with this server's URL and demo credentials in the
    /// environment, as the examples and code samples expect.
    pub fn run_client(&self, program: &str, file: &Path) -> std::process::Output {
        self.run_client_as(&self.demo.clone().expect("demo credentials"), program, file)
    }

    /// Like [`Server::run_client`], with other credentials.
    pub fn run_client_as(
        &self,
        creds: &Credentials,
        program: &str,
        file: &Path,
    ) -> std::process::Output {
        self.run_client_env(creds, &[], program, file)
    }

    /// Like [`Server::run_client_as`], with more environment variables.
    pub fn run_client_env(
        &self,
        creds: &Credentials,
        env: &[(&str, &str)],
        program: &str,
        file: &Path,
    ) -> std::process::Output {
        Command::new(program)
            .envs(env.iter().copied())
            .arg(file)
            .env("PANTHERA_URL", &self.base)
            .env("PANTHERA_API_KEY", &creds.api_key)
            .env("PANTHERA_API_SECRET", &creds.api_secret)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program} (scripts/test installs it): {e}"))
    }

    /// Runs the CLI against this server's data directory.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .envs(store_env(&self.dir))
            .args(args)
            .arg("--data-dir")
            .arg(&self.dir)
            .output()
            .expect("run panthera")
    }

    /// Creates a key with the CLI (while the server runs).
    pub fn create_key(&self, name: &str) -> Credentials {
        let out = self.cli(&["keys", "create", "--name", name, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        Credentials {
            api_key: v["api_key"].as_str().expect("api_key").to_string(),
            api_secret: v["api_secret"].as_str().expect("api_secret").to_string(),
            algo: Algo::Sha1,
        }
    }

    /// Creates an api key with the admin role with the CLI.
    pub fn create_admin_key(&self) -> Credentials {
        let out = self.cli(&[
            "keys", "create", "--name", "admin", "--role", "admin", "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["role"], "admin");
        Credentials {
            api_key: v["api_key"].as_str().expect("api_key").to_string(),
            api_secret: v["api_secret"].as_str().expect("api_secret").to_string(),
            algo: Algo::Sha1,
        }
    }

    /// A client signing with a fresh admin key.
    pub fn admin(&self) -> Client {
        Client::new(&self.base, self.create_admin_key())
    }

    /// Kills the process at once (SIGKILL, like kill -9) and waits for it;
    /// the data directory stays for a restart with [`Server::start_in`].
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `HUP` …) with `kill`.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits up to `secs` for the process to end; its exit status.
    pub fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The configuration file the server was started with.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("test-config.toml")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw bytes and reads the whole answer (the request should ask
/// `Connection: close`).
pub fn raw(addr: &str, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_reply(&buf)
}

/// Parses an HTTP/1.1 answer without chunked encoding.
pub fn parse_reply(buf: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A POST with a form body, as raw bytes.
pub fn raw_post(
    addr: &str,
    path: &str,
    extra_headers: &str,
    content_type: &str,
    body: &str,
) -> Reply {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: test\r\nConnection: close\r\n\
Content-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    );
    raw(addr, req.as_bytes())
}

/// The signed credentials for `creds` as a urlencoded string, fresh nonce.
pub fn signed_body(creds: &Credentials, extra: &[(&str, &str)]) -> String {
    let mut form = panthera::client::sign_params(
        creds,
        panthera::store::now_unix(),
        &panthera::client::random_nonce(),
    );
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    serde_urlencoded::to_string(&form).expect("encode")
}

/// A GET for a page.
pub fn get(addr: &str, path: &str) -> Reply {
    raw(
        addr,
        format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: test\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

/// Forms for `get-method-info` that all carry one signed (timestamp, nonce):
/// `form(m)` asks about method `m`, so each is the same triple in another
/// request (the replay policies tell those apart or not).
pub fn same_triple(creds: &Credentials) -> impl Fn(&str) -> Vec<(String, String)> {
    let base = panthera::client::sign_params(creds, panthera::store::now_unix(), "constant");
    move |method| {
        let mut form = base.clone();
        form.push(("method".into(), method.into()));
        form
    }
}

/// Polls until `f` holds, for up to `secs`.
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The value of the first `/metrics` line starting with `line_start` (0 when
/// there is none).
pub fn metric(s: &Server, line_start: &str) -> f64 {
    let page = get(&s.addr, "/metrics");
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
