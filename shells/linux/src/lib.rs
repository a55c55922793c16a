//! Linux I/O for the support-metrics shells. Decisions live in `support-metrics-core`; this
//! crate reads files (and, as the agent grows, owns clocks, entropy, Kafka and HTTP).

pub mod bootstrap;
pub mod customer;
pub mod driver;
pub mod facts;
pub mod http;
pub mod kafka;
pub mod log;
pub mod properties_file;
pub mod spool;
pub mod trust;
