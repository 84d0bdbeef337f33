//! The HTTP face of the files the server serves itself (`media::files`):
//! item renditions, purchased files behind signed links, test downloads.

use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::respond;
use crate::answer::Format;
use crate::error::ApiError;
use crate::media::files::{url_key, verify};
use crate::media::image::{self, Rendition};
use crate::media::render_cache::{RenderKey, Unavailable};
use crate::methods::AppState;
use crate::ops::ClientAddr;
use crate::store::{media, orders};

/// The file a request names, once found allowed: what decides its bytes
/// and how it is offered.
struct Found {
    key: RenderKey,
    /// `Content-Disposition: attachment` with this file name (downloads).
    attachment: Option<String>,
}

/// Answers `GET /media/<kind>/<file>` from the renders directory (rendering
/// the file first when needed, within the render bounds), with ranges and
/// conditional GETs. Public previews are counted per client address.
pub async fn serve(
    state: Arc<AppState>,
    req: &HttpRequest,
    kind: String,
    file: String,
    request_id: &str,
) -> HttpResponse {
    match answer(state, req, kind, file).await {
        Ok(resp) => resp,
        Err(e) => {
            let mut resp = respond::error(&e.0, Format::Xml, request_id);
            if let Some(secs) = e.1 {
                if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            resp
        }
    }
}

/// An error, and the `Retry-After` to add when it has none of its own.
struct Refusal(ApiError, Option<u64>);

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal(e, None)
    }
}

async fn answer(
    state: Arc<AppState>,
    req: &HttpRequest,
    kind: String,
    file: String,
) -> Result<HttpResponse, Refusal> {
    if kind != "download" {
        let address = req.extensions().get::<ClientAddr>().map(|c| c.0);
        if let Err(retry_after) = state
            .renders
            .charge_preview(address, state.clock.now_millis())
        {
            return Err(ApiError::RateLimited {
                policy: "previews-per-address".into(),
                retry_after,
            }
            .into());
        }
    }
    if kind == crate::media::test_download::SEGMENT {
        let st = Arc::clone(&state);
        let (id, bytes) = web::block(move || load_test(&st, &file))
            .await
            .unwrap_or(Err(ApiError::Unavailable))?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "image/jpeg"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"panthera-{id}-TEST.jpg\""),
            ))
            .body(bytes));
    }
    let st = Arc::clone(&state);
    let found = web::block(move || find(&st, &kind, &file))
        .await
        .unwrap_or(Err(ApiError::Unavailable))?;
    // A file deleted under the index is rendered again, once.
    for _ in 0..2 {
        let path = match state.renders.file(&found.key).await {
            Ok(p) => p,
            Err(Unavailable::Busy(secs)) => return Err(Refusal(ApiError::Unavailable, Some(secs))),
            Err(Unavailable::Failed) => {
                return Err(ApiError::Internal("rendering a picture file failed".into()).into())
            }
        };
        let named = match NamedFile::open_async(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                state.renders.forget(&found.key);
                continue;
            }
            Err(e) => return Err(ApiError::Internal(format!("render file: {e}")).into()),
        };
        let named = match &found.attachment {
            Some(name) => named.set_content_disposition(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(name.clone())],
            }),
            None => named.disable_content_disposition(),
        };
        // Small files are read on the worker (from the page cache), large
        // ones in chunks on the blocking pool.
        return Ok(named
            .read_mode_threshold(SYNC_READ_BELOW)
            .into_response(req));
    }
    Err(ApiError::Internal("render file vanished".into()).into())
}

/// Files smaller than this are read without leaving the worker.
const SYNC_READ_BELOW: u64 = 256 * 1024;

/// Checks the request (the link's signature and the order, or that the item
/// is public) and names the file it gets.
fn find(state: &AppState, kind: &str, file: &str) -> Result<Found, ApiError> {
    let not_found = || ApiError::NotFound("media not found".into());
    if kind == "download" {
        let key = url_key(&state.store)?;
        let id = verify(&key, file, state.clock.now())?;
        let order = state.store.orders().by_id_any(id)?.ok_or_else(not_found)?;
        if order.status != orders::Status::Ready {
            return Err(ApiError::Conflict("the download is not ready yet".into()));
        }
        let m = state
            .store
            .media_items()
            .find(order.media_id)?
            .ok_or_else(not_found)?;
        let (width, height) = image::fit(order.width, order.height, order.width.max(order.height));
        return Ok(Found {
            key: RenderKey {
                id: m.id,
                color: m.color,
                width,
                height,
                watermark: false,
            },
            attachment: Some(format!(
                "panthera-{}-{}x{}.jpg",
                m.id, order.width, order.height
            )),
        });
    }
    let r = Rendition::parse(kind).ok_or_else(not_found)?;
    let m = public_item(state, file)?;
    let (width, height) = image::fit(m.width, m.height, r.long_side());
    Ok(Found {
        key: RenderKey {
            id: m.id,
            color: m.color,
            width,
            height,
            watermark: r.watermarked(),
        },
        attachment: None,
    })
}

/// The public item a file name `<id>.jpg` names.
fn public_item(state: &AppState, file: &str) -> Result<media::Media, ApiError> {
    let not_found = || ApiError::NotFound("media not found".into());
    let id: i64 = file
        .strip_suffix(".jpg")
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_found)?;
    state
        .store
        .media_items()
        .find(id)?
        .filter(media::Media::is_public)
        .ok_or_else(not_found)
}

/// A test download's file (`/media/test/<id>.jpg`): small, rendered per
/// call, counted like the public previews.
fn load_test(state: &AppState, file: &str) -> Result<(i64, Vec<u8>), ApiError> {
    let m = public_item(state, file)?;
    Ok((
        m.id,
        image::test_rendition(m.id, &m.color, m.width, m.height),
    ))
}
