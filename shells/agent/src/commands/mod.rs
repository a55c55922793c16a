//! One module per subcommand.

pub(crate) mod config;
pub(crate) mod demo;
pub(crate) mod history;
pub(crate) mod preview;
pub(crate) mod run;
pub(crate) mod setup;
pub(crate) mod status;
