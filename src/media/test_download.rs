//! The file of a test download (`test=yes` on `download-media`, methods.md
//! §F): `GET /media/test/<id>.jpg`, a small rendition stamped TEST. Public
//! like the watermarked previews, since it is no more than one: it cannot
//! pass for a purchased file.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::answer::Format;
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::respond;
use crate::media::image;
use crate::store::media;

/// The path segment after `/media/`.
pub const SEGMENT: &str = "test";

/// The URL of item `id`'s test file.
pub fn url(base: &str, id: i64) -> String {
    format!("{base}/media/{SEGMENT}/{id}.jpg")
}

/// Answers `GET /media/test/<id>.jpg`.
pub async fn serve(state: Arc<AppState>, file: String, request_id: &str) -> HttpResponse {
    let outcome = web::block(move || load(&state, &file))
        .await
        .unwrap_or(Err(ApiError::Unavailable));
    match outcome {
        Ok((id, bytes)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "image/jpeg"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"panthera-{id}-TEST.jpg\""),
            ))
            .body(bytes),
        Err(e) => respond::error(&e, Format::Xml, request_id),
    }
}

fn load(state: &AppState, file: &str) -> Result<(i64, Vec<u8>), ApiError> {
    let not_found = || ApiError::NotFound("media not found".into());
    let id: i64 = file
        .strip_suffix(".jpg")
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_found)?;
    let m = state
        .store
        .with(|c| media::find(c, id))?
        .filter(media::Media::is_public)
        .ok_or_else(not_found)?;
    Ok((
        m.id,
        image::test_rendition(m.id, &m.color, m.width, m.height),
    ))
}
