//! `--tls-cert` and `--tls-key`: HTTPS served by the collector itself (rustls), so a record
//! crosses the network encrypted without a terminator in front, and the stored sender address
//! is the sender's.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Largest certificate chain or key file read.
const MAX_PEM: u64 = 1 << 20;

/// The server's TLS settings from a PEM certificate chain (the server's certificate first)
/// and a PEM private key. Errors name the file and the cause.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let fail = |path: &Path, why: &dyn std::fmt::Display| format!("{}: {why}", path.display());
    let chain_pem = read_pem(cert, "--tls-cert")?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(cert, &format!("--tls-cert: {e}")))?;
    if chain.is_empty() {
        return Err(fail(cert, &"--tls-cert: no PEM certificate in it"));
    }
    let key_pem = read_pem(key, "--tls-key")?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| fail(key, &format!("--tls-key: no PEM private key in it ({e})")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            fail(
                key,
                &format!("--tls-key does not fit --tls-cert {}: {e}", cert.display()),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A PEM file's bytes: a regular file of at most 1 MiB (a FIFO or a device is not read).
fn read_pem(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    crate::files::read_small(path, MAX_PEM)
        .map_err(|why| format!("{}: {flag}: {why}", path.display()))
}
