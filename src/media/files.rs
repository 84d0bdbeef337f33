//! Files the server serves itself: item renditions (`/media/thumb170/1.jpg`,
//! public like the original service's watermarked previews) and purchased
//! files behind signed, expiring links (`/media/download/<token>`). Here: the
//! links; serving the files is `http::files`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;
use crate::store::{meta, Store, StoreError};

/// The server's key for download links, made once per store, kept sealed.
pub fn url_key(store: &Store) -> Result<Vec<u8>, StoreError> {
    store.meta().secret(meta::MEDIA_URL_KEY)
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
