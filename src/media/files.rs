//! Files the server serves itself: item renditions (`/media/thumb170/1.jpg`,
//! public like the original service's watermarked previews) and purchased
//! files behind signed, expiring links (`/media/download/<token>`).

use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::answer::Format;
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::respond;
use crate::media::image::{self, Rendition};
use crate::media::render_cache::{RenderKey, Unavailable};
use crate::ops::ClientAddr;
use crate::store::{media, meta, orders, Store};

/// The server's key for download links, made once per store, kept sealed.
pub fn url_key(store: &Store) -> rusqlite::Result<Vec<u8>> {
    store.with(|c| meta::secret(c, store.keyring(), meta::MEDIA_URL_KEY))
}

fn mac(key: &[u8], id: i64, expires: i64) -> Option<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).ok()?;
    m.update(format!("download:{id}:{expires}").as_bytes());
    Some(m)
}

/// The path of a download link for order `id`, valid until `expires`.
pub fn download_path(key: &[u8], id: i64, expires: i64) -> String {
    let sig = mac(key, id, expires)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("/media/download/{id}-{expires}-{sig}.jpg")
}

/// Checks a link token (`<id>-<expires>-<sig>.jpg`): the order id when the
/// signature is right and `now` is before its expiry.
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<i64, ApiError> {
    let bad = || ApiError::NotFound("no such download".into());
    let token = token.strip_suffix(".jpg").ok_or_else(bad)?;
    let mut parts = token.splitn(3, '-');
    let id: i64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let expires: i64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let sig = parts
        .next()
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(bad)?;
    mac(key, id, expires)
        .ok_or_else(bad)?
        .verify_slice(&sig)
        .map_err(|_| bad())?;
    if now >= expires {
        return Err(ApiError::Forbidden(
            "this download link has expired, ask download-media with id_download for a new one"
                .into(),
        ));
    }
    Ok(id)
}

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
        let order = state
            .store
            .with(|c| orders::by_id_any(c, id))?
            .ok_or_else(not_found)?;
        if order.status != orders::Status::Ready {
            return Err(ApiError::Conflict("the download is not ready yet".into()));
        }
        let m = state
            .store
            .with(|c| media::find(c, order.media_id))?
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
    let id: i64 = file
        .strip_suffix(".jpg")
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_found)?;
    let m = state
        .store
        .with(|c| media::find(c, id))?
        .filter(media::Media::is_public)
        .ok_or_else(not_found)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_signed_and_expire() {
        let key = b"k".to_vec();
        let path = download_path(&key, 42, 1000);
        let token = path.rsplit('/').next().unwrap();
        assert_eq!(verify(&key, token, 999).unwrap(), 42);
        assert!(matches!(
            verify(&key, token, 1000),
            Err(ApiError::Forbidden(_))
        ));
        assert!(verify(b"other", token, 0).is_err());
        let forged = token.replacen("42-", "43-", 1);
        assert!(verify(&key, &forged, 0).is_err());
        let later = token.replacen("-1000-", "-9000-", 1);
        assert!(verify(&key, &later, 0).is_err());
        for junk in ["", ".jpg", "1-2.jpg", "x-1-00.jpg", "1-2-zz.jpg"] {
            assert!(verify(&key, junk, 0).is_err(), "{junk}");
        }
    }
}
