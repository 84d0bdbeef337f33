//! The HMAC of protocol.md §3/§4: `hex(HMAC_algo(secret, timestamp || key || nonce))`.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// A supported HMAC hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    Sha1,
    Sha256,
    Sha512,
}

impl Algo {
    pub const ALL: [Algo; 3] = [Algo::Sha1, Algo::Sha256, Algo::Sha512];

    /// `sha1`, `sha256`, `sha512` (any case); anything else is refused.
    pub fn parse(s: &str) -> Option<Algo> {
        match s.to_ascii_lowercase().as_str() {
            "sha1" => Some(Algo::Sha1),
            "sha256" => Some(Algo::Sha256),
            "sha512" => Some(Algo::Sha512),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Sha1 => "sha1",
            Algo::Sha256 => "sha256",
            Algo::Sha512 => "sha512",
        }
    }
}

macro_rules! with_mac {
    ($algo:expr, $key:expr, |$mac:ident| $body:expr) => {
        match $algo {
            Algo::Sha1 => {
                let mut $mac = <Hmac<Sha1> as Mac>::new_from_slice($key)
                    .expect("HMAC accepts keys of any length");
                $body
            }
            Algo::Sha256 => {
                let mut $mac = <Hmac<Sha256> as Mac>::new_from_slice($key)
                    .expect("HMAC accepts keys of any length");
                $body
            }
            Algo::Sha512 => {
                let mut $mac = <Hmac<Sha512> as Mac>::new_from_slice($key)
                    .expect("HMAC accepts keys of any length");
                $body
            }
        }
    };
}

/// The raw HMAC of the concatenated `parts`.
pub fn sign(algo: Algo, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    with_mac!(algo, key, |mac| {
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().to_vec()
    })
}

/// The lowercase hex HMAC, as clients send it.
pub fn sign_hex(algo: Algo, key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(sign(algo, key, parts))
}

/// Checks a hex signature (either case) in constant time. Malformed hex is
/// still put through a full comparison so timing says nothing about it.
pub fn verify_hex(algo: Algo, key: &[u8], parts: &[&[u8]], provided: &str) -> bool {
    let decoded = hex::decode(provided.as_bytes());
    with_mac!(algo, key, |mac| {
        for p in parts {
            mac.update(p);
        }
        match decoded {
            Ok(bytes) => mac.verify_slice(&bytes).is_ok(),
            Err(_) => {
                let _ = mac.verify_slice(&[0u8; 64]);
                false
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 2202 test case 2 (HMAC-SHA1) and RFC 4231 test case 2 (SHA-256/512).
    #[test]
    fn known_answers() {
        let data: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        assert_eq!(
            sign_hex(Algo::Sha1, b"Jefe", data),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            sign_hex(Algo::Sha256, b"Jefe", data),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(
            sign_hex(Algo::Sha512, b"Jefe", data).starts_with("164b7a7bfcf819e2e395fbe73b56e0a3")
        );
    }

    #[test]
    fn verify_accepts_either_case_and_rejects_junk() {
        let parts: &[&[u8]] = &[b"Thu, 26 Jul 2012 14:53:44 UTC", b"key", b"nonce"];
        let sig = sign_hex(Algo::Sha256, b"secret", parts);
        assert!(verify_hex(Algo::Sha256, b"secret", parts, &sig));
        assert!(verify_hex(
            Algo::Sha256,
            b"secret",
            parts,
            &sig.to_uppercase()
        ));
        assert!(!verify_hex(Algo::Sha256, b"other", parts, &sig));
        assert!(!verify_hex(Algo::Sha1, b"secret", parts, &sig));
        assert!(!verify_hex(Algo::Sha256, b"secret", parts, "zz"));
        assert!(!verify_hex(Algo::Sha256, b"secret", parts, ""));
    }

    #[test]
    fn algo_names() {
        assert_eq!(Algo::parse("SHA256"), Some(Algo::Sha256));
        assert_eq!(Algo::parse("md5"), None);
    }

    proptest! {
        #[test]
        fn sign_then_verify(key in proptest::collection::vec(any::<u8>(), 0..100),
                            a in ".*", b in ".*", sig in ".{0,130}") {
            for algo in Algo::ALL {
                let parts: &[&[u8]] = &[a.as_bytes(), b.as_bytes()];
                let good = sign_hex(algo, &key, parts);
                prop_assert!(verify_hex(algo, &key, parts, &good));
                // arbitrary text never panics, and only the right hex verifies
                if !sig.eq_ignore_ascii_case(&good) {
                    prop_assert!(!verify_hex(algo, &key, parts, &sig));
                }
            }
        }
    }
}
