//! `import`: the records of bundles made by `support-metrics-bundle` (sites without Internet
//! access send those to support). A bundle is checked against its manifest first; nothing of
//! a bundle that does not match is stored. Importing twice stores nothing new.

use std::path::Path;

use support_metrics_bundle::{read_verified, BundleError};

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

/// Imports one bundle.
pub fn import(writer: &Writer, path: &Path) -> Result<Imported, ImportError> {
    let entries = read_verified(path).map_err(|e| match e {
        BundleError::Corrupt(why) => ImportError::Corrupt(format!("{}: {why}", path.display())),
        other => ImportError::Unreadable(other.to_string()),
    })?;
    let mut done = Imported::default();
    let mut batch = Vec::with_capacity(BATCH);
    for (_, bytes) in &entries {
        match decode(bytes, None) {
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
            done.new += store(writer, &mut batch)?;
        }
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
