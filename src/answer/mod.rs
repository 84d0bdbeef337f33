//! Answers: the neutral tree, its two encodings, and the choice between them.

pub mod json;
pub mod tree;
pub mod xml;

use crate::error::ApiError;

/// `Content-Type` of XML answers, byte for byte as the original service sent it.
pub const XML_CONTENT_TYPE: &str = "text/xml;charset=UTF-8";
/// `Content-Type` of JSON answers: exactly this (one client compares verbatim).
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// `Content-Type` of fatal errors.
pub const FATAL_CONTENT_TYPE: &str = "text/html";

/// A structured encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

/// What the `content_type` parameter asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Raw bytes first (methods that return files); errors use `format`.
    pub binary: bool,
    /// The encoding of structured answers and normal errors.
    pub format: Format,
}

impl Default for Wanted {
    fn default() -> Self {
        Wanted {
            binary: false,
            format: Format::Xml,
        }
    }
}

impl Wanted {
    /// Reads `content_type`: one type or a comma list such as
    /// `application/octet-stream, application/json`; the first structured type
    /// in the list is the fallback for errors. Unknown types are refused.
    pub fn parse(content_type: Option<&str>) -> Result<Wanted, ApiError> {
        let Some(list) = content_type else {
            return Ok(Wanted::default());
        };
        let mut wanted = Wanted::default();
        let mut format = None;
        for (i, item) in list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let essence = item
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match essence.as_str() {
                "application/json" => format = format.or(Some(Format::Json)),
                "text/xml" | "application/xml" => format = format.or(Some(Format::Xml)),
                "application/octet-stream" => wanted.binary |= i == 0,
                _ => {
                    return Err(ApiError::InvalidParam(
                        "content_type".into(),
                        "expected application/json, text/xml or application/octet-stream".into(),
                    ))
                }
            }
        }
        wanted.format = format.unwrap_or(Format::Xml);
        Ok(wanted)
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => XML_CONTENT_TYPE,
            Format::Json => JSON_CONTENT_TYPE,
        }
    }

    pub fn encode_ok(self, answer: &tree::Answer) -> String {
        match self {
            Format::Xml => xml::encode_ok(answer),
            Format::Json => json::encode_ok(answer),
        }
    }

    pub fn encode_fail(self, code: u16, msg: &str) -> String {
        match self {
            Format::Xml => xml::encode_fail(code, msg),
            Format::Json => json::encode_fail(code, msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parameter() {
        assert_eq!(Wanted::parse(None).unwrap(), Wanted::default());
        let j = Wanted::parse(Some("application/json")).unwrap();
        assert_eq!((j.binary, j.format), (false, Format::Json));
        let b = Wanted::parse(Some("application/octet-stream, application/json")).unwrap();
        assert_eq!((b.binary, b.format), (true, Format::Json));
        let x = Wanted::parse(Some("application/octet-stream")).unwrap();
        assert_eq!((x.binary, x.format), (true, Format::Xml));
        assert!(Wanted::parse(Some("text/yaml")).is_err());
    }
}
