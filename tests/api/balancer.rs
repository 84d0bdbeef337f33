//! nginx as the load balancer in front of several instances, run from the
//! configuration the operations guide ships (`deploy/nginx/panthera.conf`);
//! stopped on drop. `scripts/test` installs nginx when it is missing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
pub struct Balancer {
    child: Child,
    /// `http://127.0.0.1:port`
    pub base: String,
    pub addr: String,
    dir: tempfile::TempDir,
}

fn nginx() -> &'static str {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is installed (scripts/test installs nginx-light)")
}

impl Balancer {
    /// nginx balancing over `upstreams` (`host:port` each).
    pub fn start(upstreams: &[&str]) -> Balancer {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = env!("CARGO_MANIFEST_DIR");
        let site = std::fs::read_to_string(format!("{root}/deploy/nginx/panthera.conf"))
            .expect("deploy/nginx/panthera.conf");
        let addr = crate::helpers::free_addr();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("server {u} max_fails=0;\n    "))
            .collect();
        let site = site
            .replace("@UPSTREAMS@", servers.trim_end())
            .replace("@LISTEN@", &addr);
        let d = dir.path().display();
        // the process-level settings an operator's nginx.conf has anyway,
        // here inside the temporary folder
        let main = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{site}\n}}\n"
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, main).expect("nginx.conf");
        // workers may run as another user: they write only to these folders
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777));
        }
        let child = Command::new(nginx())
            .args(["-p", &d.to_string(), "-c"])
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("stderr.log")).expect("stderr.log"),
            ))
            .spawn()
            .expect("nginx starts");
        let b = Balancer {
            child,
            base: format!("http://{addr}"),
            addr,
            dir,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(&b.addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nginx did not listen: {} {}",
                std::fs::read_to_string(b.dir.path().join("error.log")).unwrap_or_default(),
                std::fs::read_to_string(b.dir.path().join("stderr.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        b
    }
}

impl Drop for Balancer {
    /// SIGTERM to the master: it stops its workers too (SIGKILL would leave
    /// them running, orphaned, holding the port).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
