//! What `--version` prints: `NAME VERSION (COMMIT, librdkafka X.Y.Z, TARGET)`.

/// The git commit the binaries were built from (`unknown commit` outside a git checkout).
pub const COMMIT: &str = env!("SUPPORT_METRICS_COMMIT");
/// The target triple they were built for.
pub const TARGET: &str = env!("SUPPORT_METRICS_TARGET");

/// `VERSION (COMMIT, librdkafka X.Y.Z, TARGET)`, for clap's `version`.
pub fn long_version(version: &str) -> String {
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    format!("{version} ({COMMIT}, librdkafka {librdkafka}, {TARGET})")
}
