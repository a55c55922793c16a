//! The integration test binary (one binary, as ripgrep does).

// Core's properties parser against the real JVM's `Properties.load`.
mod java_properties;
// Fuzz seeds replayed through `support_metrics_core::fuzzing` on every `cargo test`.
mod corpus;
// `docs/record.schema.json` agrees with the encoder.
mod schema;
// The one std driver of the reporter, shared by the simulator and the model test.
mod drive;
// Deterministic simulator: virtual clock, fake sinks, spool map, bounded steps.
mod harness;
// One named test per delivery story.
mod scenarios;
// Model-based test: random configs and event sequences against a plain reference model.
mod model;
// The layout ARCHITECTURE.md describes, checked on the source.
mod structure;
