//! Fuzz target: see `support_metrics_core::fuzzing::jaas`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| support_metrics_core::fuzzing::jaas(data));
