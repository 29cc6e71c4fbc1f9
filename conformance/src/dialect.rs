//! MSNP dialect names (`MSNP8`) and dialect sets (`MSNP8`, `MSNP9+`, `MSNP8-12`)
//! as written in case headers, line guards and manifests.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The oldest dialect number a case or manifest may name.
const MIN_VERSION: u8 = 2;
/// The newest dialect number a case or manifest may name.
const MAX_VERSION: u8 = 21;

/// A dialect name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialectError {
    /// The text is not `MSNPn` with n in 2..=21.
    #[error("`{0}` is not a dialect name (expected MSNP2 ... MSNP21)")]
    BadName(String),
    /// A range whose end comes before its start.
    #[error("`{0}` is an empty dialect range")]
    EmptyRange(String),
    /// A set with no items.
    #[error("empty dialect set")]
    Empty,
}

/// One MSNP protocol version, e.g. `MSNP8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dialect(u8);

impl Dialect {
    /// MSNP8, the first Passport (TWN) dialect.
    pub const MSNP8: Dialect = Dialect(8);

    /// The dialect with this version number, if it is in 2..=21.
    pub fn new(version: u8) -> Option<Dialect> {
        (MIN_VERSION..=MAX_VERSION)
            .contains(&version)
            .then_some(Dialect(version))
    }

    /// The version number.
    pub fn version(self) -> u8 {
        self.0
    }

    /// Reads a bare version number such as `12` (used after `-` in ranges).
    fn from_number(text: &str, whole: &str) -> Result<Dialect, DialectError> {
        if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DialectError::BadName(whole.to_string()));
        }
        text.parse::<u8>()
            .ok()
            .and_then(Dialect::new)
            .ok_or_else(|| DialectError::BadName(whole.to_string()))
    }
}

impl FromStr for Dialect {
    type Err = DialectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .strip_prefix("MSNP")
            .ok_or_else(|| DialectError::BadName(s.to_string()))?;
        Dialect::from_number(digits, s)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MSNP{}", self.0)
    }
}

impl Serialize for Dialect {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dialect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of dialects, written as items separated by commas or spaces:
/// `MSNP8` (one), `MSNP9+` (9 and newer), `MSNP8-12` or `MSNP8-MSNP12` (a range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialectSet {
    /// Inclusive version ranges.
    ranges: Vec<(u8, u8)>,
}

impl DialectSet {
    /// A set holding exactly these dialects.
    pub fn of(dialects: &[Dialect]) -> DialectSet {
        DialectSet {
            ranges: dialects.iter().map(|d| (d.0, d.0)).collect(),
        }
    }

    /// Whether `dialect` is in the set.
    pub fn contains(&self, dialect: Dialect) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&dialect.0))
    }

    /// The dialects of the set, oldest first, each once.
    pub fn dialects(&self) -> Vec<Dialect> {
        (MIN_VERSION..=MAX_VERSION)
            .map(Dialect)
            .filter(|d| self.contains(*d))
            .collect()
    }

    /// Parses one item (`MSNP8`, `MSNP9+`, `MSNP8-12`, `MSNP8-MSNP12`).
    fn parse_item(item: &str) -> Result<(u8, u8), DialectError> {
        if let Some(start) = item.strip_suffix('+') {
            let d: Dialect = start.parse()?;
            return Ok((d.0, MAX_VERSION));
        }
        if let Some((start, end)) = item.split_once('-') {
            let lo: Dialect = start.parse()?;
            let hi = match end.strip_prefix("MSNP") {
                Some(digits) => Dialect::from_number(digits, item)?,
                None => Dialect::from_number(end, item)?,
            };
            if hi < lo {
                return Err(DialectError::EmptyRange(item.to_string()));
            }
            return Ok((lo.0, hi.0));
        }
        let d: Dialect = item.parse()?;
        Ok((d.0, d.0))
    }
}

impl FromStr for DialectSet {
    type Err = DialectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ranges = s
            .split([',', ' ', '\t'])
            .filter(|item| !item.is_empty())
            .map(DialectSet::parse_item)
            .collect::<Result<Vec<_>, _>>()?;
        if ranges.is_empty() {
            return Err(DialectError::Empty);
        }
        Ok(DialectSet { ranges })
    }
}

impl fmt::Display for DialectSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Contiguous runs, written compactly: MSNP8, MSNP8-12, MSNP9+.
        let versions: Vec<u8> = self.dialects().iter().map(|d| d.0).collect();
        let mut runs: Vec<(u8, u8)> = Vec::new();
        for v in versions {
            match runs.last_mut() {
                Some((_, hi)) if *hi + 1 == v => *hi = v,
                _ => runs.push((v, v)),
            }
        }
        let items: Vec<String> = runs
            .into_iter()
            .map(|(lo, hi)| match (lo, hi) {
                (lo, hi) if lo == hi => format!("MSNP{lo}"),
                (lo, MAX_VERSION) => format!("MSNP{lo}+"),
                (lo, hi) => format!("MSNP{lo}-{hi}"),
            })
            .collect();
        f.write_str(&items.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_names() {
        assert_eq!("MSNP8".parse::<Dialect>().unwrap(), Dialect::MSNP8);
        assert_eq!("MSNP12".parse::<Dialect>().unwrap().version(), 12);
        assert!("MSNP1".parse::<Dialect>().is_err());
        assert!("MSNP99".parse::<Dialect>().is_err());
        assert!("msnp8".parse::<Dialect>().is_err());
        assert!("MSNP".parse::<Dialect>().is_err());
        assert!("CVR0".parse::<Dialect>().is_err());
    }

    #[test]
    fn parses_sets() {
        let set: DialectSet = "MSNP8, MSNP10-12 MSNP20+".parse().unwrap();
        let versions: Vec<u8> = set.dialects().iter().map(|d| d.version()).collect();
        assert_eq!(versions, vec![8, 10, 11, 12, 20, 21]);
        let set: DialectSet = "MSNP8-MSNP9".parse().unwrap();
        assert!(set.contains(Dialect::MSNP8));
        assert!(!set.contains(Dialect::new(10).unwrap()));
        assert_eq!(set.to_string(), "MSNP8-9");
        let set: DialectSet = "MSNP12 MSNP2 MSNP11 MSNP20+".parse().unwrap();
        assert_eq!(set.to_string(), "MSNP2 MSNP11-12 MSNP20+");
    }

    #[test]
    fn rejects_bad_sets() {
        assert_eq!("".parse::<DialectSet>(), Err(DialectError::Empty));
        assert!(matches!(
            "MSNP12-8".parse::<DialectSet>(),
            Err(DialectError::EmptyRange(_))
        ));
        assert!("MSNP8-x".parse::<DialectSet>().is_err());
        assert!("8".parse::<DialectSet>().is_err());
    }
}
