//! The core of support-metrics: everything the Proactive Support agent decides, with no I/O.
//!
//! This crate does **no I/O, reads no clock, draws no entropy and never allocates**. It is
//! `#![no_std]` without `alloc` and builds for microcontrollers (`thumbv7em-none-eabihf`).
//! Bytes, time and randomness come in as arguments; results go out as values the caller acts
//! on. The Linux shells (`shells/`) own files, sockets, clocks and the OS random source.
//!
//! What is here:
//! - [`properties`]: a push parser with the exact semantics of Java's
//!   `Properties.load(InputStream)`, which is how a broker reads `server.properties`;
//! - [`config`]: the Proactive Support settings, validated, with defaults and sources;
//! - [`customer`]: the customer-ID grammar and classes;
//! - [`url`]: validation of endpoint and proxy URLs;
//! - [`token`]: the per-run broker token (UUIDv4 from caller-supplied bytes);
//! - [`jaas`]: the `sasl.jaas.config` grammar of Kafka clients (a secret-bearing text);
//! - [`jitter`]: the 0–1 % interval jitter, in 64-bit arithmetic;
//! - [`wire`]: the JSON records, encoded into caller buffers;
//! - [`reporter`]: the agent's brain, a deterministic state machine driven by inputs
//!   (timers, collected facts, delivery results, shutdown) whose outputs the shell carries out;
//! - [`time`], [`rand`]: millisecond newtypes without a clock, and a seeded PRNG.
//!
//! Reading a config from bytes:
//!
//! ```
//! use support_metrics_core::config::ConfigBuilder;
//!
//! let file = b"broker.id=0\nconfluent.support.customer.id=c0\n";
//! let mut builder = ConfigBuilder::new();
//! builder.read::<1024>(file, |w| panic!("{w}")).unwrap();
//! let (config, warning) = builder.build().unwrap();
//! assert_eq!(warning, None);
//! assert_eq!(config.secure_endpoint(), Some("https://support-metrics.confluent.io/test"));
//! assert_eq!(config.report_interval_ms(), 24 * 3_600_000);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

#[cfg(test)]
extern crate std;

mod ascii;
pub mod config;
pub mod customer;
pub mod jaas;
pub mod jitter;
pub mod properties;
pub mod rand;
pub mod reporter;
pub mod time;
pub mod token;
pub mod url;
pub mod wire;

#[cfg(feature = "_fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
