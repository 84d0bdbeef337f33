//! What a search asks for, parsed once at the edge: the words of `q`, the
//! `filters` string and the `extra_info` list. The store only ever sees these
//! types, so it never has to re-check raw input.

use crate::error::ApiError;

/// At most this many words are used from `q`; more would only slow the index.
pub const MAX_WORDS: usize = 32;

/// One searched word; `prefix` when it ended in `*` (`sun*` finds `sunset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub prefix: bool,
}

/// The parsed `q`: words every hit must contain, numeric words naming media
/// ids, and the excluded words (`-word` excludes it and every word after).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub words: Vec<Word>,
    pub ids: Vec<i64>,
    pub excluded: Vec<Word>,
    pub excluded_ids: Vec<i64>,
}

impl Query {
    /// Splits `q` on white space. Words are reduced to letters, digits and
    /// inner hyphens/apostrophes, so no FTS syntax can come from the caller.
    pub fn parse(q: &str) -> Query {
        let mut query = Query::default();
        let mut excluding = false;
        for raw in q.split_whitespace().take(MAX_WORDS) {
            let raw = match raw.strip_prefix('-') {
                Some(rest) => {
                    excluding = true;
                    rest
                }
                None => raw,
            };
            let prefix = raw.ends_with('*');
            let text: String = raw
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '\'')
                .collect::<String>()
                .trim_matches(|c| c == '-' || c == '\'')
                .to_lowercase();
            if text.is_empty() {
                continue;
            }
            let id = if text.bytes().all(|b| b.is_ascii_digit()) {
                text.parse::<i64>().ok()
            } else {
                None
            };
            match (excluding, id) {
                (false, Some(id)) => query.ids.push(id),
                (true, Some(id)) => query.excluded_ids.push(id),
                (false, None) => query.words.push(Word { text, prefix }),
                (true, None) => query.excluded.push(Word { text, prefix }),
            }
        }
        query
    }

    /// True when `q` asked for nothing (every public item matches).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.ids.is_empty()
    }
}

/// An FTS5 expression AND-ing `words` (each quoted, so it is a literal).
pub fn fts_all(words: &[Word]) -> String {
    join_fts(words, " AND ")
}

/// An FTS5 expression OR-ing `words`.
pub fn fts_any(words: &[Word]) -> String {
    join_fts(words, " OR ")
}

fn join_fts(words: &[Word], op: &str) -> String {
    words
        .iter()
        .map(|w| {
            let quoted = format!("\"{}\"", w.text.replace('"', "\"\""));
            if w.prefix {
                quoted + "*"
            } else {
                quoted
            }
        })
        .collect::<Vec<_>>()
        .join(op)
}

/// The order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first (newest first when there is no `q`).
    #[default]
    Relevance,
    Newest,
    Oldest,
    Popular,
}

/// A named filter of `get-search-filter` and its values (id, display name).
pub struct FilterDef {
    pub name: &'static str,
    /// `single` takes one value, `multi` a comma list.
    pub kind: &'static str,
    pub values: &'static [(&'static str, &'static str)],
}

/// The colours items are tagged with (also the demo previews' base colours).
pub const COLORS: &[(&str, &str)] = &[
    ("red", "Red"),
    ("orange", "Orange"),
    ("yellow", "Yellow"),
    ("green", "Green"),
    ("blue", "Blue"),
    ("purple", "Purple"),
    ("pink", "Pink"),
    ("brown", "Brown"),
    ("black", "Black"),
    ("white", "White"),
    ("grey", "Grey"),
];

/// Every filter `search` understands, as `get-search-filter` lists them.
pub const FILTERS: &[FilterDef] = &[
    FilterDef {
        name: "sort",
        kind: "single",
        values: &[
            ("relevance", "Relevance"),
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("popular", "Most downloaded"),
        ],
    },
    FilterDef {
        name: "orientation",
        kind: "multi",
        values: &[
            ("landscape", "Landscape"),
            ("portrait", "Portrait"),
            ("square", "Square"),
        ],
    },
    FilterDef {
        name: "license",
        kind: "multi",
        values: &[
            ("commercial", "Commercial use"),
            ("editorial", "Editorial use only"),
        ],
    },
    FilterDef {
        name: "people_number",
        kind: "multi",
        values: &[
            ("0", "Without people"),
            ("1", "One person"),
            ("2", "Two people"),
            ("3", "Three or more"),
        ],
    },
    FilterDef {
        name: "color",
        kind: "multi",
        values: COLORS,
    },
    FilterDef {
        name: "model_release",
        kind: "single",
        values: &[
            ("yes", "With model release"),
            ("no", "Without model release"),
        ],
    },
];

/// The parsed `filters` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub sort: Sort,
    /// Values as listed in [`FILTERS`]; empty = no restriction.
    pub orientation: Vec<&'static str>,
    pub license: Vec<&'static str>,
    pub people_number: Vec<i64>,
    pub color: Vec<&'static str>,
    pub model_release: Option<bool>,
}

impl Filters {
    /// Parses `name:value;name:v1,v2;` (spaces tolerated, trailing `;` optional).
    /// Unknown names or values are a `400` naming what is allowed.
    pub fn parse(s: &str) -> Result<Filters, ApiError> {
        let bad = |why: String| ApiError::InvalidParam("filters".into(), why);
        let mut f = Filters::default();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, values) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("'{}' is not name:value", clip(part))))?;
            let name = name.trim();
            let def = FILTERS
                .iter()
                .find(|d| d.name == name)
                .ok_or_else(|| bad(format!("unknown filter '{}'", clip(name))))?;
            let mut picked: Vec<&'static str> = Vec::new();
            for v in values.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                let (id, _) = def.values.iter().find(|(id, _)| *id == v).ok_or_else(|| {
                    let allowed: Vec<&str> = def.values.iter().map(|(id, _)| *id).collect();
                    bad(format!(
                        "unknown {} '{}', expected: {}",
                        def.name,
                        clip(v),
                        allowed.join(", ")
                    ))
                })?;
                if !picked.contains(id) {
                    picked.push(id);
                }
            }
            if def.kind == "single" && picked.len() > 1 {
                return Err(bad(format!("{} takes one value", def.name)));
            }
            match name {
                "sort" => {
                    f.sort = match picked.first().copied() {
                        Some("newest") => Sort::Newest,
                        Some("oldest") => Sort::Oldest,
                        Some("popular") => Sort::Popular,
                        _ => Sort::Relevance,
                    }
                }
                "orientation" => f.orientation = picked,
                "license" => f.license = picked,
                "people_number" => {
                    f.people_number = picked.iter().filter_map(|v| v.parse().ok()).collect()
                }
                "color" => f.color = picked,
                "model_release" => f.model_release = picked.first().map(|v| *v == "yes"),
                _ => {}
            }
        }
        Ok(f)
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The item attributes `extra_info` can add to each `<media>` of a search.
pub const EXTRA_INFO: &[&str] = &[
    "preview",
    "preview_high",
    "width",
    "height",
    "copyright",
    "date",
    "keywords",
    "title",
    "description",
    "editorial",
    "mimetype",
    "model_release",
    "property_release",
    "author_username",
    "author_realname",
    "orientation",
];

/// Parses a comma list of `allowed` names (spaces tolerated, duplicates dropped).
pub fn parse_list(
    param: &str,
    value: Option<&str>,
    allowed: &'static [&'static str],
) -> Result<Vec<&'static str>, ApiError> {
    let mut out = Vec::new();
    for item in value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let known = allowed.iter().find(|a| **a == item).ok_or_else(|| {
            ApiError::InvalidParam(
                param.into(),
                format!("unknown '{}', expected: {}", clip(item), allowed.join(", ")),
            )
        })?;
        if !out.contains(known) {
            out.push(*known);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str) -> Word {
        Word {
            text: t.into(),
            prefix: false,
        }
    }

    #[test]
    fn minus_excludes_the_word_and_all_after() {
        let q = Query::parse("Red  fox -snow winter 42 -7");
        assert_eq!(q.words, vec![w("red"), w("fox")]);
        assert_eq!(q.excluded, vec![w("snow"), w("winter")]);
        assert_eq!(q.excluded_ids, vec![42, 7]);
        assert!(q.ids.is_empty());
    }

    #[test]
    fn numeric_words_are_ids_and_syntax_is_dropped() {
        let q = Query::parse("123 \"fox\" OR* (x) sun*");
        assert_eq!(q.ids, vec![123]);
        assert_eq!(q.words[0], w("fox"));
        assert_eq!(
            fts_all(&q.words),
            "\"fox\" AND \"or\"* AND \"x\" AND \"sun\"*"
        );
        assert!(Query::parse("  - -- ").is_empty());
    }

    #[test]
    fn filters_parse_with_spaces_and_lists() {
        let f =
            Filters::parse(" orientation : landscape, square ; color:red;sort:newest; ").unwrap();
        assert_eq!(f.orientation, vec!["landscape", "square"]);
        assert_eq!(f.color, vec!["red"]);
        assert_eq!(f.sort, Sort::Newest);
        assert!(Filters::parse("nope:1").is_err());
        assert!(Filters::parse("color:plaid").is_err());
        assert!(Filters::parse("sort:newest,oldest").is_err());
        assert!(Filters::parse("orientation").is_err());
        assert_eq!(Filters::parse("").unwrap(), Filters::default());
    }

    #[test]
    fn extra_info_lists() {
        let v = parse_list("extra_info", Some("width, height,width"), EXTRA_INFO).unwrap();
        assert_eq!(v, vec!["width", "height"]);
        assert!(parse_list("extra_info", Some("color"), EXTRA_INFO).is_err());
    }
}
