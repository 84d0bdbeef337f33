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
