//! `panthera media import FILE`: CSV (with a header line) or JSON lines, every
//! row checked first; any bad row is reported with its line number and
//! nothing is written. Good files go in as one transaction.

use std::collections::{HashMap, HashSet};

use crate::media::body;
use crate::media::query::{self, COLORS};
use crate::store::media::NewMedia;

/// The columns (CSV header names, JSON keys) an import understands.
pub const COLUMNS: &[&str] = &[
    "id",
    "title",
    "description",
    "keywords",
    "author_username",
    "author_realname",
    "width",
    "height",
    "mime_type",
    "editorial",
    "model_release",
    "property_release",
    "people_number",
    "color",
    "state",
    "filename",
    "type",
    "people_gender",
    "people_ethnicity",
    "isolated",
    "adult_content",
    "collection",
];

/// The states of §E, then their word aliases in the same order (as
/// `state[]` of the contributor methods accepts them).
pub const STATES_AND_ALIASES: &[&str] = &[
    "red",
    "yellow",
    "black",
    "green",
    "red-green",
    "yellow-green",
    "rejected",
    "pending",
    "incomplete",
    "accepted",
    "suspended",
    "accepted-incomplete",
];

/// The states of §E.
pub const STATES: &[&str] = STATES_AND_ALIASES.split_at(6).0;

/// A state or one of its aliases, as stored.
pub fn parse_state(s: &str) -> Option<&'static str> {
    let s = s.trim().to_ascii_lowercase();
    Some(match s.as_str() {
        "red" | "rejected" => "red",
        "yellow" | "pending" => "yellow",
        "black" | "incomplete" => "black",
        "green" | "accepted" => "green",
        "red-green" | "suspended" => "red-green",
        "yellow-green" | "accepted-incomplete" | "metadata-incomplete" => "yellow-green",
        _ => return None,
    })
}

const MIME_TYPES: &[&str] = &["image/jpeg", "image/png", "image/tiff", "video/mp4"];

/// One bad row: its (first) line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses and checks a whole file; JSON lines when the first non-blank
/// character is `{`, CSV otherwise. `now` dates rows without a date.
pub fn parse(text: &str, now: i64) -> Result<Vec<(usize, NewMedia)>, Vec<RowError>> {
    let first = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .next();
    let rows = if first == Some('{') {
        json_rows(text)
    } else {
        csv_rows(text)
    };
    let rows = rows.map_err(|e| vec![e])?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for (line, fields) in rows {
        match row(&fields, now) {
            Ok(m) => {
                if let Some(id) = m.id {
                    if !ids.insert(id) {
                        errors.push(RowError {
                            line,
                            message: format!("id {id} appears twice in the file"),
                        });
                        continue;
                    }
                }
                out.push((line, m))
            }
            Err(message) => errors.push(RowError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

type Row = (usize, HashMap<String, String>);

fn json_rows(text: &str) -> Result<Vec<Row>, RowError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                rows.push((
                    n,
                    HashMap::from([("__error".into(), format!("not JSON: {e}"))]),
                ));
                continue;
            }
        };
        let Some(obj) = v.as_object() else {
            rows.push((
                n,
                HashMap::from([("__error".into(), "not a JSON object".into())]),
            ));
            continue;
        };
        let mut fields = HashMap::new();
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            fields.insert(k.clone(), s);
        }
        rows.push((n, fields));
    }
    Ok(rows)
}

/// RFC 4180 CSV: quoted fields may hold commas, `""` and line breaks. A row
/// reports the line it starts on.
fn csv_rows(text: &str) -> Result<Vec<Row>, RowError> {
    let records = csv_records(text)?;
    let mut it = records.into_iter();
    let Some((_, header)) = it.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    for h in &header {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(RowError {
                line: 1,
                message: format!("unknown column '{h}', expected: {}", COLUMNS.join(", ")),
            });
        }
    }
    let mut rows = Vec::new();
    for (line, rec) in it {
        if rec.len() == 1 && rec[0].trim().is_empty() {
            continue;
        }
        if rec.len() != header.len() {
            rows.push((
                line,
                HashMap::from([(
                    "__error".into(),
                    format!("{} fields, the header has {}", rec.len(), header.len()),
                )]),
            ));
            continue;
        }
        rows.push((line, header.iter().cloned().zip(rec).collect()));
    }
    Ok(rows)
}

fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowError> {
    let mut records = Vec::new();
    let mut line = 1;
    let mut start = 1;
    let mut field = String::new();
    let mut rec: Vec<String> = Vec::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                rec.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut rec)));
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(RowError {
            line: start,
            message: "a quoted field is never closed".into(),
        });
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        records.push((start, rec));
    }
    Ok(records)
}

/// One row to an item, or what is wrong with it (all problems of the row).
fn row(f: &HashMap<String, String>, now: i64) -> Result<NewMedia, String> {
    if let Some(e) = f.get("__error") {
        return Err(e.clone());
    }
    let mut problems = Vec::new();
    for k in f.keys() {
        if !COLUMNS.contains(&k.as_str()) {
            problems.push(format!("unknown field '{k}'"));
        }
    }
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let mut m = NewMedia {
        created_at: now,
        ..NewMedia::default()
    };
    if !get("id").is_empty() {
        match body::parse_id(get("id")) {
            Ok(id) => m.id = Some(id),
            Err(e) => problems.push(e),
        }
    }
    m.title = get("title").to_string();
    if m.title.is_empty() {
        problems.push("title is empty".into());
    } else if m.title.chars().count() > body::MAX_TITLE {
        problems.push(format!("title is longer than {}", body::MAX_TITLE));
    }
    m.description = get("description").to_string();
    match body::keywords(get("keywords").split(',')) {
        Ok(k) => m.keywords = k,
        Err(e) => problems.push(e),
    }
    m.author_username = get("author_username").to_string();
    if !crate::media::valid_username(&m.author_username) {
        problems.push("author_username must be 3-32 of a-z 0-9 _ . -".into());
    }
    m.author_realname = get("author_realname").to_string();
    for (name, slot) in [("width", &mut m.width), ("height", &mut m.height)] {
        match get(name).parse::<i64>() {
            Ok(v) if (1..=100_000).contains(&v) => *slot = v,
            _ => problems.push(format!("{name} must be an integer from 1 to 100000")),
        }
    }
    m.mime_type = match get("mime_type") {
        "" => "image/jpeg".into(),
        t if MIME_TYPES.contains(&t) => t.into(),
        t => {
            problems.push(format!(
                "mime_type '{t}' is not one of {}",
                MIME_TYPES.join(", ")
            ));
            String::new()
        }
    };
    for (name, slot) in [
        ("editorial", &mut m.editorial),
        ("model_release", &mut m.model_release),
        ("property_release", &mut m.property_release),
        ("isolated", &mut m.isolated),
        ("adult_content", &mut m.adult_content),
    ] {
        match get(name).to_ascii_lowercase().as_str() {
            "" | "no" | "false" | "0" => *slot = false,
            "yes" | "true" | "1" => *slot = true,
            _ => problems.push(format!("{name} must be yes or no")),
        }
    }
    m.people_number = match get("people_number") {
        "" => 0,
        v => match v.parse::<i64>() {
            Ok(n) if (0..=1000).contains(&n) => n,
            _ => {
                problems.push("people_number must be an integer from 0 to 1000".into());
                0
            }
        },
    };
    m.color = match get("color") {
        "" => "grey".into(),
        c if COLORS.iter().any(|(id, _)| *id == c) => c.into(),
        c => match query::parse_hex(c) {
            Some(rgb) => {
                m.color_rgb = Some(i64::from(rgb));
                nearest_color(rgb).into()
            }
            None => {
                problems.push(format!(
                    "unknown color '{c}': a colour name or six hex digits (ff8800)"
                ));
                String::new()
            }
        },
    };
    m.media_type = match get("type").to_ascii_lowercase().as_str() {
        "" | "photo" | "photos" => "photo".into(),
        "illustration" | "illustrations" => "illustration".into(),
        "vector" | "vectors" => "vector".into(),
        t => {
            problems.push(format!(
                "unknown type '{t}', expected: photo, illustration, vector"
            ));
            String::new()
        }
    };
    m.people_gender = match get("people_gender").to_ascii_lowercase().as_str() {
        "" => String::new(),
        "m" | "male" => "m".into(),
        "f" | "female" => "f".into(),
        "mf" | "fm" | "mixed" => "mf".into(),
        g => {
            problems.push(format!("unknown people_gender '{g}', expected: m, f, mf"));
            String::new()
        }
    };
    let mut codes: Vec<String> = Vec::new();
    for code in get("people_ethnicity")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let code = code.to_ascii_lowercase();
        if !(1..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            problems.push(format!(
                "people_ethnicity code '{code}' is not 1-4 letters a-z"
            ));
        } else if !codes.contains(&code) {
            codes.push(code);
        }
    }
    m.people_ethnicity = codes.join(",");
    m.collection = match get("collection") {
        "" => "standard".into(),
        c if c.len() <= 32
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            c.to_ascii_lowercase()
        }
        _ => {
            problems.push("collection must be up to 32 of a-z 0-9 - _".into());
            String::new()
        }
    };
    m.state = match get("state") {
        "" => "green".into(),
        s => match parse_state(s) {
            Some(s) => s.into(),
            None => {
                problems.push(format!(
                    "unknown state '{s}', expected: {}",
                    STATES.join(", ")
                ));
                String::new()
            }
        },
    };
    m.filename = get("filename").to_string();
    if problems.is_empty() {
        Ok(m)
    } else {
        Err(problems.join("; "))
    }
}

/// The colour tag nearest to `rgb` (for items imported with a hex colour).
fn nearest_color(rgb: u32) -> &'static str {
    let [r, g, b] = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255].map(i64::from);
    COLORS
        .iter()
        .map(|(name, _)| {
            let [cr, cg, cb] = crate::media::image::rgb(name).map(i64::from);
            ((cr - r).pow(2) + (cg - g).pow(2) + (cb - b).pow(2), *name)
        })
        .min()
        .map_or("grey", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_then_their_aliases() {
        assert_eq!(STATES.len() * 2, STATES_AND_ALIASES.len());
        for (i, s) in STATES.iter().enumerate() {
            assert_eq!(parse_state(s), Some(*s));
            assert_eq!(parse_state(STATES_AND_ALIASES[STATES.len() + i]), Some(*s));
        }
    }

    #[test]
    fn csv_with_quotes_and_line_numbers() {
        let text = "title,keywords,author_username,width,height\n\
                    \"Fox, red\",\"fox,animal\",anna.berg,3000,2000\n\
                    \"Two\nlines\",x,anna.berg,10,10\n\
                    ,x,anna.berg,0,10\n\
                    Ok,x,a,10,10\n";
        let errs = parse(text, 0).unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 6], "{errs:?}");
        assert!(errs[0].message.contains("title is empty"));
        assert!(errs[0].message.contains("width"));
        assert!(errs[1].message.contains("author_username"));
        let ok = parse(
            "title,author_username,width,height,state\n\"A \"\"b\"\"\",anna.berg,5,5,pending\n",
            0,
        )
        .unwrap();
        assert_eq!(ok[0].0, 2);
        assert_eq!(ok[0].1.title, "A \"b\"");
        assert_eq!(ok[0].1.state, "yellow");
    }

    #[test]
    fn json_lines() {
        let text = "{\"title\":\"A\",\"author_username\":\"anna.berg\",\"width\":10,\"height\":5,\"keywords\":[\"x\",\"y\"]}\n\
                    \n\
                    {\"title\":\"B\",\"author_username\":\"anna.berg\",\"width\":\"ten\",\"height\":5}\n\
                    not json\n";
        let errs = parse(text, 0).unwrap_err();
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4]);
        let ok = parse(text.lines().next().unwrap(), 0).unwrap();
        assert_eq!(ok[0].1.keywords, vec!["x".to_string(), "y".to_string()]);
    }

    #[test]
    fn search_filter_columns() {
        let ok = parse(
            "title,author_username,width,height,type,people_number,people_gender,\
             people_ethnicity,color,isolated,adult_content,collection\n\
             A,anna.berg,5,5,illustrations,2,mf,\"a, xd\",ff0010,yes,no,premium\n",
            0,
        )
        .unwrap();
        let m = &ok[0].1;
        assert_eq!(m.media_type, "illustration");
        assert_eq!((m.people_number, m.people_gender.as_str()), (2, "mf"));
        assert_eq!(m.people_ethnicity, "a,xd");
        assert_eq!((m.color.as_str(), m.color_rgb), ("red", Some(0xff0010)));
        assert!(m.isolated && !m.adult_content);
        assert_eq!(m.collection, "premium");
        let errs = parse(
            "title,author_username,width,height,type,people_gender,color\n\
             A,anna.berg,5,5,movie,x,zz\n",
            0,
        )
        .unwrap_err();
        for what in ["type", "people_gender", "color"] {
            assert!(errs[0].message.contains(what), "{errs:?}");
        }
    }

    #[test]
    fn states_and_aliases() {
        assert_eq!(parse_state("Accepted"), Some("green"));
        assert_eq!(parse_state("suspended"), Some("red-green"));
        assert_eq!(parse_state("blue"), None);
    }
}
