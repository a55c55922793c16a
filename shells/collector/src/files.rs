//! Reading the small files an operator names (the advisories, the TLS certificate and key):
//! only a regular file is opened (opening a FIFO blocks until someone writes to it), and at
//! most a bound is read.

use std::io::Read;
use std::path::Path;

/// `path`'s bytes if it is a regular file of at most `max` bytes; else why not (without the
/// path: the caller names it).
pub fn read_small(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {} KiB", max >> 10));
    }
    Ok(bytes)
}
