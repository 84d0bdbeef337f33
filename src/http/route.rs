//! Where a request goes: the path (`/`, `/v1.0/`, `/<method>`, `/v1.0/<method>`,
//! trailing slash optional) and the version it asks for (protocol.md §1).

use crate::error::ApiError;
use crate::protocol::version::{Version, VersionState, VersionTable};

/// What the path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// The documentation index.
    Index,
    /// A method, by name (not yet looked up).
    Method(&'a str),
    /// A guide page: `/guide/<stem>`.
    Guide(&'a str),
    /// `/openapi.json`.
    OpenApi,
    /// `/postman.json`: the Postman collection of the version.
    Postman,
    /// A static file of the docs: `/assets/<name>`.
    Asset(&'a str),
    /// `/health`: liveness and a store check.
    Health,
    /// `/metrics`: Prometheus text.
    Metrics,
    /// A file of the catalogue: `/media/<kind>/<file>` (renditions, downloads).
    Media(&'a str, &'a str),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    /// The `vX.Y` segment, without the `v`.
    pub version: Option<&'a str>,
    pub target: Target<'a>,
}

/// Splits the path. A first segment of `v` + digit is a version prefix.
pub fn parse_path(path: &str) -> Result<Route<'_>, ApiError> {
    let trimmed = path.trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let mut segments = trimmed.split('/').filter(|s| !s.is_empty());
    let first = segments.next();
    let (version, name) = match first {
        Some(s) if is_version_segment(s) => (Some(&s[1..]), segments.next()),
        other => (None, other),
    };
    let target = match (name, segments.next()) {
        (Some("media"), Some(kind)) => match segments.next() {
            Some(file) => Target::Media(kind, file),
            None => return Err(ApiError::UnknownMethod(trimmed.chars().take(80).collect())),
        },
        (None, _) => Target::Index,
        (Some("openapi.json"), None) => Target::OpenApi,
        (Some("postman.json"), None) => Target::Postman,
        (Some("favicon.ico"), None) if version.is_none() => Target::Asset("favicon.ico"),
        (Some("health"), None) if version.is_none() => Target::Health,
        (Some("metrics"), None) if version.is_none() => Target::Metrics,
        (Some("guide"), Some(stem)) => Target::Guide(stem),
        (Some("assets"), Some(file)) => Target::Asset(file),
        (Some(n), None) => Target::Method(n),
        (Some(_), Some(_)) => {
            return Err(ApiError::UnknownMethod(trimmed.chars().take(80).collect()))
        }
    };
    if segments.next().is_some() {
        return Err(ApiError::UnknownMethod(trimmed.chars().take(80).collect()));
    }
    Ok(Route { version, target })
}

fn is_version_segment(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && (b[0] == b'v' || b[0] == b'V') && b[1].is_ascii_digit()
}

/// The outcome of version resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// Serve under this version.
    Serve(Version),
    /// Redirect (307/308) to the same target under this version.
    Redirect(Version, u16),
}

/// Path prefix wins, then `Accept-Version`, then the configured default;
/// unknown is `400`, gone is `410`, deprecated redirects to the newest current.
pub fn resolve_version(
    path_version: Option<&str>,
    accept_version: Option<&str>,
    table: &VersionTable,
) -> Result<Resolved, ApiError> {
    let asked = path_version.or(accept_version.map(str::trim).filter(|s| !s.is_empty()));
    let version = match asked {
        None => table.default,
        Some(s) => s.parse::<Version>().map_err(|_| unknown(s, table))?,
    };
    match table.state(version) {
        None => Err(unknown(&version.to_string(), table)),
        Some(VersionState::Current) => Ok(Resolved::Serve(version)),
        Some(VersionState::Gone) => Err(ApiError::VersionGone(version, table.newest_current())),
        Some(VersionState::Deprecated) => Ok(Resolved::Redirect(
            table.newest_current(),
            table.deprecated_status,
        )),
    }
}

fn unknown(asked: &str, table: &VersionTable) -> ApiError {
    let known: Vec<String> = table
        .versions
        .iter()
        .filter(|(_, s)| *s != VersionState::Gone)
        .map(|(v, _)| v.to_string())
        .collect();
    ApiError::UnknownVersion(asked.chars().take(32).collect(), known.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::VersionsConfig;

    #[test]
    fn paths() {
        let r = |p| parse_path(p).unwrap();
        assert_eq!(r("/").target, Target::Index);
        assert_eq!(r("/v1.0/").version, Some("1.0"));
        assert_eq!(r("/v1.0").target, Target::Index);
        assert_eq!(r("/host-info").target, Target::Method("host-info"));
        assert_eq!(r("/host-info/").target, Target::Method("host-info"));
        let full = r("/v1.2/search/");
        assert_eq!(
            (full.version, full.target),
            (Some("1.2"), Target::Method("search"))
        );
        assert!(parse_path("/v1.0/a/b").is_err());
        assert!(parse_path("/guide/a/b").is_err());
        assert_eq!(r("/guide/errors").target, Target::Guide("errors"));
        assert_eq!(r("/openapi.json").target, Target::OpenApi);
        assert_eq!(r("/v1.0/postman.json").target, Target::Postman);
        assert_eq!(r("/favicon.ico").target, Target::Asset("favicon.ico"));
        assert_eq!(r("/assets/tryit.js").target, Target::Asset("tryit.js"));
        assert_eq!(r("/health").target, Target::Health);
        assert_eq!(r("/metrics/").target, Target::Metrics);
        assert_eq!(
            r("/media/thumb170/12.jpg").target,
            Target::Media("thumb170", "12.jpg")
        );
        assert_eq!(
            r("/v1.0/media/preview/1.jpg").target,
            Target::Media("preview", "1.jpg")
        );
        assert!(parse_path("/media/preview").is_err());
        assert!(parse_path("/media/preview/1.jpg/x").is_err());
        // a method may start with v if no digit follows
        assert_eq!(r("/verify").target, Target::Method("verify"));
    }

    #[test]
    fn versions() {
        let mut c = VersionsConfig::default();
        c.states.insert("0.9".into(), VersionState::Gone);
        c.states.insert("1.1".into(), VersionState::Deprecated);
        let t = VersionTable::from_config(&c).unwrap();
        let v = |a, b| Version::new(a, b);
        assert_eq!(
            resolve_version(None, None, &t).unwrap(),
            Resolved::Serve(v(1, 0))
        );
        assert_eq!(
            resolve_version(None, Some("1.2"), &t).unwrap(),
            Resolved::Serve(v(1, 2))
        );
        assert_eq!(
            resolve_version(Some("1.0"), Some("1.2"), &t).unwrap(),
            Resolved::Serve(v(1, 0))
        );
        assert_eq!(
            resolve_version(Some("1.1"), None, &t).unwrap(),
            Resolved::Redirect(v(1, 2), 307)
        );
        assert!(matches!(
            resolve_version(Some("0.9"), None, &t),
            Err(ApiError::VersionGone(..))
        ));
        assert!(matches!(
            resolve_version(Some("3.0"), None, &t),
            Err(ApiError::UnknownVersion(..))
        ));
        assert!(matches!(
            resolve_version(None, Some("junk"), &t),
            Err(ApiError::UnknownVersion(..))
        ));
    }
}
