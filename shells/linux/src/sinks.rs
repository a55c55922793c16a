//! What the drive loop needs of a sink, apart from how it is done: the topic's producer and
//! the HTTP client implement these in their own modules and crates (as quinn keeps its runtime
//! traits apart from the runtimes). A new sink is a new trait here and a worker in the loop.

use std::time::Duration;

use support_metrics_core::reporter::{HttpResult, Target, TopicResult};

/// Delivers one record to the internal topic, within `timeout`.
pub trait TopicSink: Send {
    /// Produces `value` with `key`; the detail explains a failure for the log.
    fn produce(
        &mut self,
        key: &[u8],
        value: &[u8],
        timeout: Duration,
    ) -> (TopicResult, Option<String>);
}

/// Posts one record to an endpoint, within the client's own time bound.
pub trait HttpSink: Send {
    /// POSTs `body` to the endpoint `target` names (HTTPS or HTTP).
    fn post(&mut self, target: Target, body: &[u8]) -> Posted;
}

/// The sinks a drive loop delivers to; `None` when off.
#[derive(Default)]
pub struct Destinations {
    /// The internal topic.
    pub topic: Option<Box<dyn TopicSink>>,
    /// The endpoints.
    pub http: Option<Box<dyn HttpSink>>,
}

/// What the vendor may say back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    /// A short text for the operator.
    pub information_for_user: Option<String>,
    /// The latest available version.
    pub confluent_platform_version: Option<String>,
}

/// The result of one POST, with a detail for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    /// For the reporter.
    pub result: HttpResult,
    /// Parsed from a 2xx body, if any.
    pub notice: Option<Notice>,
    /// The error message for transport failures.
    pub detail: Option<String>,
}
