//! Linux I/O shared by the support-metrics binaries: `server.properties`, bootstrap servers,
//! the spool directory, Kafka (rdkafka), customer facts, and the drive loop around core's
//! reporter. Decisions live in `support-metrics-core`. HTTP is in `support-metrics-http`, so
//! the bundle tool, which needs none, builds no TLS stack.

pub mod bootstrap;
pub mod broker;
pub mod client;
pub mod customer;
pub mod docs;
pub mod driver;
pub mod facts;
pub mod kafka;
pub mod ledger;
pub mod log;
pub mod properties_file;
pub mod secrets;
pub mod sinks;
pub mod spool;
pub mod status;
pub mod utc;
pub mod version;
pub mod versions;
