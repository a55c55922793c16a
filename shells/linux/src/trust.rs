//! Extra trusted roots for HTTPS (`confluent.support.metrics.endpoint.ca.file`).
//!
//! minreq 3 builds one process-wide rustls config with the platform verifier, which loads
//! roots through rustls-native-certs: the system store, or *only* the file named by
//! `SSL_CERT_FILE` when that is set. To trust the system roots *plus* a CA file, this module
//! writes both into one PEM bundle and points `SSL_CERT_FILE` at it. Call it once at start,
//! before any thread exists and before the first HTTPS request; the agent has one config per
//! process, so a process-wide trust store is exactly right. Verification itself is never
//! relaxed: a certificate no bundle root signed still fails.

use core::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Why the CA file cannot be used.
#[derive(Debug)]
pub enum TrustError {
    /// The file cannot be read.
    Unreadable(PathBuf, std::io::Error),
    /// The file holds no PEM certificate.
    NoCertificate(PathBuf),
    /// The bundle cannot be written.
    Write(PathBuf, std::io::Error),
}

impl core::fmt::Display for TrustError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TrustError::Unreadable(p, e) => write!(f, "cannot read CA file {}: {e}", p.display()),
            TrustError::NoCertificate(p) => {
                write!(f, "CA file {} holds no PEM certificate", p.display())
            }
            TrustError::Write(p, e) => write!(f, "cannot write trust bundle {}: {e}", p.display()),
        }
    }
}

impl core::error::Error for TrustError {}

/// The bundle that was installed.
#[derive(Debug)]
pub struct Installed {
    /// Where it is.
    pub path: PathBuf,
    /// Roots from the system store (or the caller's own `SSL_CERT_FILE`/`SSL_CERT_DIR`).
    pub system_roots: usize,
    /// Roots from the CA file.
    pub extra_roots: usize,
}

/// Writes `dir/trusted-roots.pem` (system roots + `ca_file`) and sets `SSL_CERT_FILE` to it.
pub fn install_extra_roots(ca_file: &Path, dir: &Path) -> Result<Installed, TrustError> {
    let pem = std::fs::read(ca_file).map_err(|e| TrustError::Unreadable(ca_file.to_owned(), e))?;
    let extra: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if extra.is_empty() {
        return Err(TrustError::NoCertificate(ca_file.to_owned()));
    }
    let system = rustls_native_certs::load_native_certs().certs;
    let mut bundle = String::new();
    for cert in system.iter().chain(&extra) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        bundle.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            let _ = writeln!(bundle, "{}", String::from_utf8_lossy(line));
        }
        bundle.push_str("-----END CERTIFICATE-----\n");
    }
    let path = dir.join("trusted-roots.pem");
    let tmp = dir.join(".trusted-roots.pem.tmp");
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, bundle))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| TrustError::Write(path.clone(), e))?;
    // Safe in edition 2021, and called before any other thread exists (see module docs).
    std::env::set_var("SSL_CERT_FILE", &path);
    std::env::remove_var("SSL_CERT_DIR");
    Ok(Installed {
        path,
        system_roots: system.len(),
        extra_roots: extra.len(),
    })
}
