//! The media catalogue's own logic (methods.md §D, §E): parsing searches and
//! bodies, rendering pictures, signed download links, the order worker,
//! imports and synthetic catalogues. The methods live in `methods::media`,
//! `methods::downloads` and `methods::contributor`; the tables in `store`.

pub mod body;
pub mod catalogue;
pub mod cli;
pub mod embed;
pub mod files;
pub mod image;
pub mod import;
pub mod inbox;
pub mod query;
pub mod render_cache;
pub mod test_download;

/// A username as methods.md §C defines it: 3–32 of `[a-z0-9_.-]`.
pub fn valid_username(s: &str) -> bool {
    (3..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// The public URL of an item's rendition.
pub fn rendition_url(base: &str, id: i64, r: image::Rendition) -> String {
    format!("{base}/media/{}/{id}.jpg", r.segment())
}
