//! The file of a test download (`test=yes` on `download-media`, methods.md
//! §F): `GET /media/test/<id>.jpg`, a small rendition stamped TEST. Public
//! like the watermarked previews, since it is no more than one: it cannot
//! pass for a purchased file.

/// The path segment after `/media/`.
pub const SEGMENT: &str = "test";

/// The URL of item `id`'s test file.
pub fn url(base: &str, id: i64) -> String {
    format!("{base}/media/{SEGMENT}/{id}.jpg")
}
