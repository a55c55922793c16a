//! The one description of what leaves the machine: `run`'s and `once`'s startup line,
//! `preview`'s header and `config`'s "Reporting" line all come from [`describe`], and
//! `preview`'s per-record destinations from [`destinations`].

use support_metrics_core::config::Key;
use support_metrics_core::reporter::{Sink, Sinks};

use support_metrics_linux::broker::Watch;

use crate::commands::setup::Setup;

/// Every destination, the interval, the proxy, DO_NOT_TRACK and the spool, in one sentence
/// (which reads after "reporting"); or why nothing is sent.
pub(crate) fn describe(setup: &Setup) -> String {
    let c = &setup.config;
    if !setup.reporter.enabled {
        return format!("disabled ({}=false)", Key::Enable);
    }
    if setup.reporter.sinks().is_empty() {
        return if setup.do_not_track {
            "disabled: no topic, and DO_NOT_TRACK forbids HTTP".to_owned()
        } else {
            "disabled: no topic and no endpoint".to_owned()
        };
    }
    let topic = match (c.topic(), &setup.connection) {
        (Some(t), Ok(b)) => format!("topic {t} via {} ({})", b.servers, b.security),
        (Some(t), Err(_)) => format!("topic {t} (no usable bootstrap servers)"),
        (None, _) => "topic off".to_owned(),
    };
    let http = if setup.do_not_track {
        "HTTP off (DO_NOT_TRACK)".to_owned()
    } else {
        match (c.secure_endpoint(), c.insecure_endpoint()) {
            (Some(s), Some(i)) => format!("HTTPS {s} with fallback to HTTP {i}"),
            (Some(s), None) => format!("HTTPS {s}, no fallback"),
            (None, Some(i)) => format!("HTTP {i} only (unencrypted)"),
            (None, None) => "HTTP off".to_owned(),
        }
    };
    let proxy = match c.proxy() {
        Some(p) if !setup.do_not_track => format!("proxy {}", p.redacted()),
        _ => "no proxy".to_owned(),
    };
    format!(
        "every {} h: {topic}; {http}; {proxy}; DO_NOT_TRACK {}; spool {}; broker watch: {}",
        c.report_interval_hours(),
        if setup.do_not_track { "on" } else { "off" },
        setup.spool_dir.display(),
        setup.watch.name()
    )
}

/// Which broker the agent serves, and how it knows that broker runs.
pub(crate) fn broker(setup: &Setup) -> String {
    match setup.watch {
        Watch::Process => format!(
            "watched by its process, a kafka.Kafka (or SupportedKafka) JVM running {}",
            setup.path.display()
        ),
        Watch::Listener => match (&setup.connection, setup.broker_id()) {
            (Ok(b), Some(id)) => format!(
                "watched by its listener {} and broker.id {id} in the cluster metadata",
                b.servers
            ),
            _ => "watched by its listener, but no listener or broker.id is configured".to_owned(),
        },
        Watch::None => "not watched: the agent's run stands for the broker's run".to_owned(),
    }
}

/// Where a record still pending for `pending` would go.
pub(crate) fn destinations(setup: &Setup, pending: Sinks) -> String {
    let c = &setup.config;
    let mut to = Vec::new();
    if pending.contains(Sink::Topic) {
        to.push(format!("topic {}", c.topic().unwrap_or("?")));
    }
    if pending.contains(Sink::Http) {
        match (c.secure_endpoint(), c.insecure_endpoint()) {
            (Some(s), Some(i)) => to.push(format!("POST {s} (if that fails: POST {i})")),
            (Some(s), None) => to.push(format!("POST {s}")),
            (None, Some(i)) => to.push(format!("POST {i}")),
            (None, None) => {}
        }
    }
    to.join("; ")
}

/// Each target as the ledger names it: the topic (with its servers), then the HTTPS and the
/// HTTP endpoint's URLs.
pub(crate) fn targets(setup: &Setup) -> [String; 3] {
    let c = &setup.config;
    let topic = match (c.topic(), &setup.connection) {
        (Some(t), Ok(b)) => format!("topic {t} via {}", b.servers),
        (Some(t), Err(_)) => format!("topic {t}"),
        (None, _) => "topic (off)".to_owned(),
    };
    let post = |url: Option<&str>| url.map_or("(off)".to_owned(), |u| format!("POST {u}"));
    [
        topic,
        post(c.secure_endpoint()),
        post(c.insecure_endpoint()),
    ]
}
