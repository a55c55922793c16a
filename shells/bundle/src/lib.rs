//! The support-metrics bundle: every record of the topic, read by assignment from the start
//! to the end offsets seen at start, written to a zip with a manifest of SHA-256 hashes.
//! Nothing is left on the cluster (no consumer group, nothing committed).

mod read;
mod zipfile;
pub mod zk;

pub use read::{read_topic, Progress, Records, Source};
pub use zipfile::{
    absolute, default_file_name, each_verified, inspect, regular_file, verify, write_bundle,
    Summary,
};

/// Why a bundle could not be made or checked; each is one line for the operator.
#[derive(Debug)]
pub enum BundleError {
    /// The cluster did not answer within the runtime.
    Unreachable(String),
    /// The topic does not exist.
    NoSuchTopic(String, String),
    /// The runtime ended before every record was read.
    Incomplete {
        /// Records read.
        read: u64,
        /// Records known to exist but not read.
        missing: u64,
        /// The last consumer error, if any.
        last_error: Option<String>,
    },
    /// The output file exists and `--force` was not given.
    Exists(std::path::PathBuf),
    /// A zip that does not match its manifest.
    Corrupt(String),
    /// librdkafka refuses a client setting (named, never its value).
    Config(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleError::Unreachable(e) => write!(f, "cannot reach the Kafka cluster: {e}"),
            BundleError::NoSuchTopic(t, servers) => {
                write!(f, "topic {t} does not exist on {servers}")
            }
            BundleError::Incomplete {
                read,
                missing,
                last_error,
            } => {
                write!(f, "ran out of time: read {read} records, {missing} missing; no bundle written (raise --runtime)")?;
                match last_error {
                    Some(e) => write!(f, "; last error: {e}"),
                    None => Ok(()),
                }
            }
            BundleError::Exists(p) => {
                write!(f, "{} exists; use --force to replace it", p.display())
            }
            BundleError::Config(e) => f.write_str(e),
            BundleError::Corrupt(e) => write!(f, "bundle does not match its manifest: {e}"),
            BundleError::Other(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for BundleError {}
