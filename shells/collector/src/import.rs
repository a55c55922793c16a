//! `import`: the records of bundles made by `support-metrics-bundle` (sites without Internet
//! access send those to support). A bundle is checked against its manifest first; nothing of
//! a bundle that does not match is stored. Importing twice stores nothing new.

use std::path::Path;

use support_metrics_bundle::{each_verified, verify, BundleError};

use crate::record::{decode, Origin};
use crate::writer::Writer;

/// Rows per transaction.
const BATCH: usize = 1000;

/// What one bundle held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Entries that are our records.
    pub records: usize,
    /// Of those, not stored before.
    pub new: usize,
    /// Entries that are not our records (other producers' messages on the topic), skipped.
    pub foreign: usize,
}

/// Why a bundle was not imported.
#[derive(Debug)]
pub enum ImportError {
    /// Missing or unreadable (exit 66).
    Unreadable(String),
    /// Not a bundle, or it does not match its manifest (exit 65).
    Corrupt(String),
    /// The database refused the records (exit 69).
    Store(String),
}

/// Imports one bundle. It is read twice, an entry at a time: first the whole of it against
/// its manifest (nothing of a bundle that does not match is stored), then again to store its
/// records in batches. Memory stays bounded however many entries it holds: a hostile bundle's
/// entries can inflate to gigabytes.
pub fn import(writer: &Writer, path: &Path) -> Result<Imported, ImportError> {
    let bundle_error = |e| match e {
        BundleError::Corrupt(why) => ImportError::Corrupt(format!("{}: {why}", path.display())),
        other => ImportError::Unreadable(other.to_string()),
    };
    verify(path).map_err(bundle_error)?;
    let mut done = Imported::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut failed = None;
    each_verified(path, |_, bytes| {
        if failed.is_some() {
            return;
        }
        match decode(&bytes, None) {
            Ok(row) => {
                done.records += 1;
                batch.push((
                    row,
                    Origin {
                        via: "bundle",
                        component: None,
                        remote: None,
                    },
                ));
            }
            Err(_) => done.foreign += 1,
        }
        if batch.len() == BATCH {
            match store(writer, &mut batch) {
                Ok(new) => done.new += new,
                Err(e) => failed = Some(e),
            }
        }
    })
    .map_err(bundle_error)?;
    if let Some(e) = failed {
        return Err(e);
    }
    done.new += store(writer, &mut batch)?;
    Ok(done)
}

fn store(
    writer: &Writer,
    batch: &mut Vec<(crate::record::Row, Origin)>,
) -> Result<usize, ImportError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let fresh = writer
        .write_blocking(std::mem::take(batch))
        .map_err(ImportError::Store)?;
    Ok(fresh.into_iter().filter(|f| *f).count())
}
