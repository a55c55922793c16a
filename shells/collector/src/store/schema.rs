//! Versioned migrations, applied in order, each in its own transaction; the database records
//! which ran. A database newer than this collector is refused.

/// The migrations, oldest first; a migration's version is its index plus one. Never edit one
/// that has shipped: add the next.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the records, keyed by the record itself. Time first in the key: new records land at
    // its end (few pages written per commit), and the fleet's time ranges read it in order.
    "CREATE TABLE records (
        token TEXT NOT NULL,
        ts BIGINT NOT NULL,
        state BIGINT NOT NULL,
        class TEXT NOT NULL,
        kafka_version TEXT NOT NULL,
        cp_version TEXT,
        customer_id TEXT,
        cluster_id TEXT,
        broker_id BIGINT,
        brokers BIGINT,
        topics BIGINT,
        partitions BIGINT,
        body TEXT NOT NULL,
        via TEXT NOT NULL,
        component TEXT,
        remote TEXT,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (ts, token, state)
    );",
];

/// The table that says which migrations ran.
pub(super) const VERSIONS: &str = "CREATE TABLE IF NOT EXISTS support_metrics_schema (
    version BIGINT PRIMARY KEY,
    applied_at BIGINT NOT NULL
)";

/// The error for a database newer than this collector.
pub(super) fn too_new(found: i64) -> String {
    format!(
        "the database's schema is version {found}, newer than this collector knows ({}); use a newer collector",
        MIGRATIONS.len()
    )
}
