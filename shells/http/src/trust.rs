//! Extra trusted roots for HTTPS (`confluent.support.metrics.endpoint.ca.file`).
//!
//! minreq 3 builds one process-wide rustls config with the platform verifier, which loads
//! roots through rustls-native-certs: the system store, or *only* the file named by
//! `SSL_CERT_FILE` when that is set. To trust the system roots *plus* a CA file, this module
//! writes both into one PEM bundle and points `SSL_CERT_FILE` at it. Call it once at start,
//! before any thread exists and before the first HTTPS request; the agent has one config per
//! process, so a process-wide trust store is exactly right. Verification itself is never
//! relaxed: a certificate no bundle root signed still fails.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use support_metrics_linux::spool::{TEMP_PREFIX, TRUST_BUNDLE};

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
    // Even streamed, reading a distribution's store takes heap for a moment (file list, the
    // sets that deduplicate, a certificate at a time). On a thread of its own that memory goes
    // back when the thread's allocator arena empties; in the main heap, allocations made
    // meanwhile pin it for the agent's whole life (measured: 232 KiB of main heap resident
    // without the thread, 104 KiB with it).
    let installed = std::thread::scope(|s| s.spawn(|| write_bundle(ca_file, dir)).join())
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    // Safe in edition 2021, and no other thread exists: the worker has ended, and the caller
    // starts none before (see module docs).
    std::env::set_var("SSL_CERT_FILE", &installed.path);
    std::env::remove_var("SSL_CERT_DIR");
    Ok(installed)
}

/// The certificates of `ca_file`: a readable file holding at least one PEM certificate.
/// Checked when the config is read, before anything is created or sent.
pub fn ca_certificates(ca_file: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let unreadable = |e| TrustError::Unreadable(ca_file.to_owned(), e);
    let meta = std::fs::metadata(ca_file).map_err(unreadable)?;
    if !meta.is_file() || meta.len() > MAX_CA_FILE {
        return Err(unreadable(std::io::Error::other(format!(
            "not a regular file of at most {} MiB",
            MAX_CA_FILE >> 20
        ))));
    }
    let pem = std::fs::read(ca_file).map_err(unreadable)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TrustError::NoCertificate(ca_file.to_owned()));
    }
    Ok(certs)
}

/// The largest CA file read.
const MAX_CA_FILE: u64 = 16 << 20;

/// Writes `dir/trusted-roots.pem`: the system roots, then those of `ca_file`.
fn write_bundle(ca_file: &Path, dir: &Path) -> Result<Installed, TrustError> {
    let extra = ca_certificates(ca_file)?;
    let (file, dirs) = system_store();
    let path = dir.join(TRUST_BUNDLE);
    let tmp = dir.join(format!("{TEMP_PREFIX}{TRUST_BUNDLE}.tmp"));
    let write = || -> std::io::Result<usize> {
        std::fs::create_dir_all(dir)?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let system = write_system_roots(&mut out, file.as_deref(), &dirs)?;
        for cert in &extra {
            write_pem(&mut out, cert)?;
        }
        out.flush()?;
        drop(out);
        std::fs::rename(&tmp, &path)?;
        Ok(system)
    };
    let system_roots = write().map_err(|e| TrustError::Write(path.clone(), e))?;
    Ok(Installed {
        path,
        system_roots,
        extra_roots: extra.len(),
    })
}

/// Where the system roots are, as rustls-native-certs looks for them: `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` when either is set, else the file and directories openssl-probe finds.
fn system_store() -> (Option<PathBuf>, Vec<PathBuf>) {
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|d| {
            std::env::split_paths(&d)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if file.is_some() || !dirs.is_empty() {
        return (file, dirs);
    }
    let probed = openssl_probe::probe();
    (probed.cert_file, probed.cert_dir)
}

/// Writes the PEM certificates of `file` and of every file in `dirs` (symlinks followed, each
/// file read once, each certificate written once), as rustls-native-certs would load them,
/// but one at a time: the whole store in memory is ~0.3 MiB of heap. Unreadable files and
/// malformed entries are skipped, as there. Returns how many were written.
fn write_system_roots(
    out: &mut impl Write,
    file: Option<&Path>,
    dirs: &[PathBuf],
) -> std::io::Result<usize> {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, RandomState};
    use std::os::unix::fs::MetadataExt;

    let mut files = Vec::new();
    files.extend(file.map(Path::to_path_buf));
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
    }
    let (mut seen_files, mut seen_certs) = (HashSet::new(), HashSet::new());
    // Keyed per process: nobody can craft a certificate that hides another one.
    let hasher = RandomState::new();
    let mut written = 0;
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || !seen_files.insert((meta.dev(), meta.ino())) {
            continue;
        }
        let Ok(certs) = CertificateDer::pem_file_iter(&path) else {
            continue;
        };
        for cert in certs.filter_map(Result::ok) {
            if seen_certs.insert(hasher.hash_one(cert.as_ref())) {
                write_pem(out, &cert)?;
                written += 1;
            }
        }
    }
    Ok(written)
}

/// One certificate in PEM, lines of 64 base64 characters.
fn write_pem(out: &mut impl Write, der: &[u8]) -> std::io::Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    out.write_all(b"-----BEGIN CERTIFICATE-----\n")?;
    for line in b64.as_bytes().chunks(64) {
        out.write_all(line)?;
        out.write_all(b"\n")?;
    }
    out.write_all(b"-----END CERTIFICATE-----\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_pem_reads_back_as_the_same_certificates() {
        // Lengths around the 48-byte (64-character) line boundary, and a long one.
        let ders: Vec<Vec<u8>> = [1usize, 47, 48, 49, 96, 1500]
            .iter()
            .map(|&n| (0..n).map(|i| (i * 37 + n) as u8).collect())
            .collect();
        let mut pem = Vec::new();
        for der in &ders {
            write_pem(&mut pem, der).unwrap();
        }
        let text = String::from_utf8(pem.clone()).unwrap();
        assert!(text.lines().all(|l| l.len() <= 64), "{text}");
        let back: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&pem)
            .map(|c| c.unwrap().as_ref().to_vec())
            .collect();
        assert_eq!(back, ders);
    }

    #[test]
    fn system_roots_are_written_once_each_from_file_and_directories() {
        let pem = |ders: &[&[u8]]| {
            let mut out = Vec::new();
            for der in ders {
                write_pem(&mut out, der).unwrap();
            }
            out
        };
        let (a, b, c): (&[u8], &[u8], &[u8]) = (b"first root", b"second root", b"third root");
        let root = std::env::temp_dir().join(format!("sm-trust-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let certs = root.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        let bundle = root.join("bundle.crt");
        std::fs::write(&bundle, pem(&[a, b])).unwrap();
        std::fs::write(certs.join("a.pem"), pem(&[a])).unwrap();
        std::fs::write(certs.join("bc.pem"), pem(&[b, c])).unwrap();
        std::fs::write(certs.join("README"), "not a certificate\n").unwrap();
        std::os::unix::fs::symlink(&bundle, certs.join("ca-certificates.crt")).unwrap();
        std::os::unix::fs::symlink(root.join("gone"), certs.join("dangling.pem")).unwrap();

        let mut out = Vec::new();
        let n = write_system_roots(&mut out, Some(&bundle), &[certs, root.join("none")]).unwrap();
        let mut back: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&out)
            .map(|c| c.unwrap().as_ref().to_vec())
            .collect();
        back.sort();
        assert_eq!(n, 3);
        assert_eq!(back, [a.to_vec(), b.to_vec(), c.to_vec()]);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
