//! `msnpd gen-cert`: a self-signed certificate and its key for testing a TLS
//! listener, written as `cert.pem` and `key.pem` (mode 0600) into a directory.
//! Clients must be told to trust `cert.pem` itself; for production use a
//! certificate from a real CA.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

/// The names used when none are given.
pub const DEFAULT_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];
/// Years the certificate stays valid.
const VALID_YEARS: i32 = 5;

/// Why no certificate was written.
#[derive(Debug, thiserror::Error)]
pub enum GenCertError {
    /// A name is neither an IP address nor a valid DNS name.
    #[error("bad name `{name}`: {why}")]
    Name {
        /// The name.
        name: String,
        /// Why.
        why: String,
    },
    /// Key generation or signing failed.
    #[error("cannot generate the certificate: {0}")]
    Generate(String),
    /// A file could not be written (or exists and `force` was not given).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// The files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The certificate (`DIR/cert.pem`).
    pub cert: PathBuf,
    /// The private key (`DIR/key.pem`, mode 0600).
    pub key: PathBuf,
}

/// A self-signed certificate for `names` (DNS names or IP addresses; the
/// first is also the common name) and its key, as PEM text.
pub fn self_signed(names: &[String]) -> Result<(String, String), GenCertError> {
    let mut params = CertificateParams::new(names.to_vec()).map_err(|e| {
        let name = names
            .iter()
            .find(|n| CertificateParams::new(vec![(*n).clone()]).is_err())
            .cloned()
            .unwrap_or_default();
        GenCertError::Name {
            name,
            why: e.to_string(),
        }
    })?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names.first().map(String::as_str).unwrap_or("msnpd"),
    );
    dn.push(DnType::OrganizationName, "msnpd test certificate");
    params.distinguished_name = dn;
    let year = current_year();
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + VALID_YEARS, 1, 1);
    let key = KeyPair::generate().map_err(|e| GenCertError::Generate(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| GenCertError::Generate(e.to_string()))?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes a self-signed certificate for `names` (or [`DEFAULT_NAMES`]) to
/// `dir/cert.pem` and its key to `dir/key.pem`, creating `dir`. Existing
/// files are replaced only with `force`.
pub fn write(dir: &Path, names: &[String], force: bool) -> Result<Written, GenCertError> {
    let names: Vec<String> = if names.is_empty() {
        DEFAULT_NAMES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        names.to_vec()
    };
    let (cert_pem, key_pem) = self_signed(&names)?;
    std::fs::create_dir_all(dir).map_err(|source| GenCertError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let written = Written {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    write_file(&written.key, key_pem.as_bytes(), 0o600, force)?;
    write_file(&written.cert, cert_pem.as_bytes(), 0o644, force)?;
    Ok(written)
}

fn write_file(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<(), GenCertError> {
    let err = |source| GenCertError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)
}

/// The current year (UTC), close enough for a validity period that starts a
/// year early.
fn current_year() -> i32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // 31,556,952 s is the mean Gregorian year.
    1970 + i32::try_from(secs / 31_556_952).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_loadable_pair_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tls");
        let names = vec!["msn.example.com".to_owned(), "10.0.0.1".to_owned()];
        let written = write(&out, &names, false).unwrap();
        let certs = crate::tls::load::read_certificates(&written.cert).unwrap();
        assert_eq!(certs.len(), 1);
        crate::tls::load::read_private_key(&written.key).unwrap();
        let mode = std::fs::metadata(&written.key).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        assert!(matches!(
            write(&out, &names, false),
            Err(GenCertError::Write { .. })
        ));
        write(&out, &names, true).unwrap();
    }

    #[test]
    fn rejects_bad_names() {
        let err = self_signed(&["b\u{e4}d.example".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("b\u{e4}d.example"), "{err}");
    }
}
