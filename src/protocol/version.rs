//! API versions (protocol.md §1): parsing `X.Y`, their configured states, and
//! which version a request asks for.

pub use crate::wire::{BadVersion, Version, VersionState};

/// The configured versions, resolved once at start.
#[derive(Debug, Clone)]
pub struct VersionTable {
    /// Sorted ascending.
    pub versions: Vec<(Version, VersionState)>,
    pub default: Version,
    /// 307 or 308.
    pub deprecated_status: u16,
}

impl VersionTable {
    /// Builds the table from validated configuration.
    pub fn from_config(c: &crate::config::VersionsConfig) -> Result<Self, BadVersion> {
        let mut versions = c
            .states
            .iter()
            .map(|(v, s)| Ok((v.parse::<Version>()?, *s)))
            .collect::<Result<Vec<_>, BadVersion>>()?;
        versions.sort_by_key(|(v, _)| *v);
        Ok(VersionTable {
            versions,
            default: c.default.parse()?,
            deprecated_status: c.deprecated_status,
        })
    }

    /// The state of `v`, or `None` when the version is unknown.
    pub fn state(&self, v: Version) -> Option<VersionState> {
        self.versions.iter().find(|(x, _)| *x == v).map(|(_, s)| *s)
    }

    /// The newest current version: the target of deprecation redirects.
    pub fn newest_current(&self) -> Version {
        self.versions
            .iter()
            .rev()
            .find(|(_, s)| *s == VersionState::Current)
            .map(|(v, _)| *v)
            .unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_orders() {
        assert_eq!("1.0".parse::<Version>(), Ok(Version::new(1, 0)));
        assert_eq!("v1.2".parse::<Version>(), Ok(Version::new(1, 2)));
        assert!(Version::new(1, 10) > Version::new(1, 9));
        for bad in ["", "1", "1.", ".1", "a.b", "1.0.0", "1.-1", "12345.0"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn newest_current_skips_deprecated() {
        let mut c = crate::config::VersionsConfig::default();
        c.states.insert("1.2".into(), VersionState::Deprecated);
        let t = VersionTable::from_config(&c).unwrap();
        assert_eq!(t.newest_current(), Version::new(1, 1));
        assert_eq!(t.state(Version::new(1, 2)), Some(VersionState::Deprecated));
        assert_eq!(t.state(Version::new(2, 0)), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_round_trips(s in ".{0,12}", a in 0u16..1000, b in 0u16..1000) {
            let _ = s.parse::<Version>();
            let v = Version::new(a, b);
            prop_assert_eq!(v.to_string().parse::<Version>(), Ok(v));
        }
    }
}
