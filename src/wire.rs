//! Wire values the ground reads: an API version and the state configuration
//! gives it, the protocol timestamp, and the refusals `ApiError` wraps. Their
//! rules (parsing, signing) live in `protocol`, which re-exports them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An API version such as `1.0`; ordered numerically (1.10 > 1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
}

impl Version {
    pub const fn new(major: u16, minor: u16) -> Self {
        Version { major, minor }
    }

    /// The first version, which most methods are declared since.
    pub const V1_0: Version = Version::new(1, 0);
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Not a version of the form `X.Y`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a version like 1.0")]
pub struct BadVersion(pub String);

impl FromStr for Version {
    type Err = BadVersion;
    /// Accepts `1.0`, and a leading `v` (`v1.0`) as `X-API-Version` spells it.
    fn from_str(s: &str) -> Result<Self, BadVersion> {
        let bad = || BadVersion(s.chars().take(32).collect());
        let t = s.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let (a, b) = t.split_once('.').ok_or_else(bad)?;
        let digits =
            |x: &str| !x.is_empty() && x.len() <= 4 && x.bytes().all(|c| c.is_ascii_digit());
        if !digits(a) || !digits(b) {
            return Err(bad());
        }
        Ok(Version::new(
            a.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
        ))
    }
}

/// The state an operator gives a version in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionState {
    /// Served normally.
    Current,
    /// Redirected (307/308) to the newest current version.
    Deprecated,
    /// Answered with 410.
    Gone,
}

impl VersionState {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Current => "current",
            VersionState::Deprecated => "deprecated",
            VersionState::Gone => "gone",
        }
    }
}

/// The canonical example shown in every error message, so a client sees what
/// to send instead.
pub const EXAMPLE: &str = "Thu, 26 Jul 2012 14:53:44 UTC";

/// A point in time with one-second resolution, as carried by the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a timestamp string was refused; every message shows [`EXAMPLE`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimestampError {
    /// The text does not have the `Www, DD Mon YYYY HH:MM:SS ZONE` shape.
    #[error("invalid timestamp '{input}', expected e.g. '{}'", EXAMPLE)]
    Syntax { input: String },
    /// The shape is right but a field is outside its range.
    #[error(
        "invalid timestamp '{input}': {field} out of range, expected e.g. '{}'",
        EXAMPLE
    )]
    OutOfRange { input: String, field: &'static str },
    /// The weekday does not match the date; `actual` is the real weekday.
    #[error(
        "invalid timestamp '{input}': {date} is a {actual}, expected e.g. '{}'",
        EXAMPLE
    )]
    WrongWeekday {
        input: String,
        date: String,
        actual: &'static str,
    },
}

impl Timestamp {
    /// Wraps seconds since 1970-01-01T00:00:00Z.
    pub fn from_unix(s: i64) -> Self {
        Timestamp(s)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix(self) -> i64 {
        self.0
    }
}

/// Placeholder used in [`ParamError::InvalidUtf8`] when the name itself is
/// not UTF-8 (so there is no name to report).
pub const PARAMETER_NAME: &str = "parameter name";

/// Why the parameters were refused; each maps to HTTP 400.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("too many parameters (at most {max})")]
    TooMany { max: usize },
    #[error("a parameter name is longer than {max} bytes")]
    NameTooLong { max: usize },
    #[error("parameter '{name}' is longer than {max} bytes")]
    ValueTooLong { name: String, max: usize },
    #[error("parameter '{0}' given twice")]
    Duplicate(String),
    /// `name` is the parameter whose value is bad, or [`PARAMETER_NAME`].
    #[error("parameters must be UTF-8 ({})", utf8_subject(.name))]
    InvalidUtf8 { name: String },
    #[error("parameter name is empty")]
    EmptyName,
    #[error(
        "unsupported content type '{0}', expected application/x-www-form-urlencoded or multipart/form-data"
    )]
    UnsupportedContentType(String),
    #[error("malformed request: {0}")]
    Malformed(String),
}

fn utf8_subject(name: &str) -> String {
    if name == PARAMETER_NAME {
        "a parameter name is not".to_owned()
    } else {
        format!("parameter '{name}' is not")
    }
}

/// Why an `Authorization: OAuth` header was refused (a fatal `400`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("Authorization header is not of the OAuth scheme")]
    NotOAuth,
    #[error("malformed OAuth header: {0}")]
    Malformed(&'static str),
    #[error("OAuth parameter '{0}' given twice")]
    Duplicate(String),
    #[error("missing OAuth parameter '{0}'")]
    Missing(&'static str),
    #[error(
        "oauth_signature_method not supported, Supported: HMAC-SHA1 - HMAC-SHA256 - HMAC-SHA512"
    )]
    BadMethod,
    #[error("oauth_version must be 1.0")]
    BadVersion,
    #[error("oauth_timestamp must be Unix seconds")]
    BadTimestamp,
    #[error("oauth_signature is not base64")]
    BadSignatureEncoding,
}
