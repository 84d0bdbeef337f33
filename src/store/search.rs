//! The values a catalogue search hands the store, already parsed at the edge
//! (`media::query` parses them): the words, the filters, the order.

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

/// A wanted number of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum People {
    Exactly(i64),
    AtLeast(i64),
}

/// A wanted colour: a tag name (exact) or an RGB value (within tolerance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Named(&'static str),
    Rgb(u32),
}

/// The parsed `filters` parameter. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub sort: Sort,
    /// Stored media types: `photo`, `illustration`, `vector`.
    pub types: Vec<&'static str>,
    /// Canonical ids: `vertical`, `horizontal`, `square`, `panorama`.
    pub orientation: Vec<&'static str>,
    /// `commercial`, `editorial`.
    pub license: Vec<&'static str>,
    pub people: Vec<People>,
    /// `m`, `f`.
    pub gender: Vec<&'static str>,
    /// Codes of 1–4 letters.
    pub ethnicity: Vec<String>,
    pub color: Vec<Color>,
    /// RGB distance for [`Color::Rgb`], 0..=442.
    pub color_tolerance: i64,
    pub model_release: Option<bool>,
    /// Usernames (lower-cased, a comma list); unknown ones match nothing.
    pub authors: Vec<String>,
}

/// The RGB of a colour name (see `media::query::COLORS`); grey when unknown.
pub fn rgb(color: &str) -> [u8; 3] {
    match color {
        "red" => [196, 48, 43],
        "orange" => [230, 126, 34],
        "yellow" => [241, 196, 15],
        "green" => [46, 139, 87],
        "blue" => [41, 98, 180],
        "purple" => [125, 60, 152],
        "pink" => [232, 120, 160],
        "brown" => [121, 85, 61],
        "black" => [30, 30, 34],
        "white" => [236, 236, 230],
        _ => [128, 128, 128],
    }
}

/// What differs between the backends' SQL for the filters: how a caller's
/// text is bound, how "contains" and a boolean column are written.
pub(crate) trait FilterSql {
    /// Binds `text`; answers its placeholder.
    fn bind(&mut self, text: String) -> String;
    /// True where SQL expression `haystack` contains `needle`.
    fn contains(&self, haystack: &str, needle: &str) -> String;
    /// True where boolean column `column` is `value`.
    fn flag(&self, column: &str, value: bool) -> String;
}

/// SQL conditions for the filters, the same for every backend. Fixed-list
/// values and numbers are written into the SQL; text from the caller
/// (authors, ethnicity codes) only ever goes in bound.
pub(crate) fn filter_conditions(f: &Filters, conds: &mut Vec<String>, sql: &mut impl FilterSql) {
    let any = |parts: Vec<String>| format!("({})", parts.join(" OR "));
    if !f.types.is_empty() {
        let list: Vec<String> = f.types.iter().map(|t| format!("'{t}'")).collect();
        conds.push(format!("m.media_type IN ({})", list.join(",")));
    }
    if !f.orientation.is_empty() {
        conds.push(any(f
            .orientation
            .iter()
            .map(|o| {
                match *o {
                    "horizontal" => "m.width > m.height",
                    "vertical" => "m.width < m.height",
                    "panorama" => "m.width >= 2 * m.height",
                    _ => "m.width = m.height",
                }
                .to_string()
            })
            .collect()));
    }
    if f.license.len() == 1 {
        conds.push(sql.flag("m.editorial", f.license[0] == "editorial"));
    }
    if !f.people.is_empty() {
        conds.push(any(f
            .people
            .iter()
            .map(|p| match p {
                People::Exactly(n) => format!("m.people_number = {n}"),
                People::AtLeast(n) => format!("m.people_number >= {n}"),
            })
            .collect()));
    }
    if !f.gender.is_empty() {
        conds.push(any(f
            .gender
            .iter()
            .map(|g| sql.contains("m.people_gender", &format!("'{g}'")))
            .collect()));
    }
    if !f.ethnicity.is_empty() {
        let parts = f
            .ethnicity
            .iter()
            .map(|e| {
                let p = sql.bind(format!(",{e},"));
                sql.contains("',' || m.people_ethnicity || ','", &p)
            })
            .collect();
        conds.push(any(parts));
    }
    if !f.color.is_empty() {
        let t = f.color_tolerance;
        conds.push(any(f
            .color
            .iter()
            .map(|c| match c {
                Color::Named(name) => format!("m.color = '{name}'"),
                Color::Rgb(rgb) => {
                    let (r, g, b) = ((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255);
                    format!(
                        "(m.color_rgb IS NOT NULL AND \
                         (((m.color_rgb >> 16) & 255) - {r}) * (((m.color_rgb >> 16) & 255) - {r}) + \
                         (((m.color_rgb >> 8) & 255) - {g}) * (((m.color_rgb >> 8) & 255) - {g}) + \
                         ((m.color_rgb & 255) - {b}) * ((m.color_rgb & 255) - {b}) <= {})",
                        t * t
                    )
                }
            })
            .collect()));
    }
    if let Some(r) = f.model_release {
        conds.push(sql.flag("m.model_release", r));
    }
    if !f.authors.is_empty() {
        let parts = f
            .authors
            .iter()
            .map(|a| {
                let p = sql.bind(a.clone());
                format!("m.author_id IN (SELECT id FROM media_authors WHERE username = {p})")
            })
            .collect();
        conds.push(any(parts));
    }
}
