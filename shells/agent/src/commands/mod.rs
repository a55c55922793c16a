//! One module per subcommand.

pub(crate) mod config;
pub(crate) mod demo;
pub(crate) mod preview;
pub(crate) mod run;
pub(crate) mod setup;
