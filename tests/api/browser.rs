//! A minimal browser for the HTML pages: keeps cookies, never follows
//! redirects (the tests look at them), trusts the test server's certificate.

use std::sync::Arc;
use std::time::Duration;

/// One page answer.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Every `Set-Cookie` value, whole (attributes included).
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the hidden field `name` (the first one on the page).
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("closing quote") + start;
        self.body[start..end].to_string()
    }
}

pub struct Browser {
    agent: ureq::Agent,
    cookies: Vec<(String, String)>,
    pub accept_language: Option<String>,
}

impl Browser {
    pub fn new(cert_pem: &[u8]) -> Browser {
        let tls = panthera::client::tls_trusting(cert_pem).expect("trust the certificate");
        Browser {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .redirects(0)
                .tls_config(Arc::new(tls))
                .build(),
            cookies: Vec::new(),
            accept_language: None,
        }
    }

    /// A browser for plain HTTP servers (no certificate to trust).
    pub fn plain() -> Browser {
        Browser {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .redirects(0)
                .build(),
            cookies: Vec::new(),
            accept_language: None,
        }
    }

    /// Sets a cookie as if a server (or an attacker) had planted it.
    pub fn add_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_string(), value.to_string()));
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn prepare(&self, req: ureq::Request) -> ureq::Request {
        let mut req = req.set("User-Agent", "Mozilla/5.0 (test browser)");
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.set("Cookie", &jar);
        }
        if let Some(l) = &self.accept_language {
            req = req.set("Accept-Language", l);
        }
        req
    }

    fn read(&mut self, result: Result<ureq::Response, ureq::Error>) -> Page {
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport: {e}"),
        };
        let set_cookies: Vec<String> = resp
            .all("set-cookie")
            .iter()
            .map(|c| c.to_string())
            .collect();
        for set in &set_cookies {
            let pair = set.split(';').next().unwrap_or("");
            if let Some((n, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != n);
                if !v.is_empty() && !set.contains("Max-Age=0") {
                    self.cookies.push((n.to_string(), v.to_string()));
                }
            }
        }
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        Page {
            status: resp.status(),
            headers,
            set_cookies,
            body: resp.into_string().expect("body"),
        }
    }

    pub fn get(&mut self, url: &str) -> Page {
        let req = self.prepare(self.agent.get(url));
        let result = req.call();
        self.read(result)
    }

    pub fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let req = self.prepare(self.agent.post(url));
        let result = req.send_form(form);
        self.read(result)
    }
}
