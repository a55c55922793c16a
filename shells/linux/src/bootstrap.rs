//! Where the agent's Kafka client connects: `confluent.support.metrics.bootstrap.servers`, or
//! else the broker's own listeners, as a broker-side tool would find them.

use std::collections::HashMap;

/// The default when a broker sets no listener at all (Kafka's own default).
const DEFAULT_LISTENER: &str = "PLAINTEXT://:9092";

/// Servers and the security protocol of the listener they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootstrap {
    /// `host:port[,...]`.
    pub servers: String,
    /// librdkafka's `security.protocol` for that listener (`plaintext`, `ssl`, ...), when
    /// derived from the listeners.
    pub protocol: Option<String>,
    /// The listener's name (upper case), when derived from the listeners.
    pub listener: Option<String>,
}

/// Picks the bootstrap servers. `get` looks up a broker property; `wanted_protocol` is the
/// `security.protocol` the operator set for the agent's client, if any.
pub fn bootstrap(
    explicit: Option<&str>,
    get: impl Fn(&str) -> Option<String>,
    wanted_protocol: Option<&str>,
) -> Result<Bootstrap, String> {
    if let Some(servers) = explicit {
        return Ok(Bootstrap {
            servers: servers.to_owned(),
            protocol: None,
            listener: None,
        });
    }
    let listeners = get("advertised.listeners")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| get("listeners").filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_LISTENER.to_owned());
    let mut map: HashMap<String, String> = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
        .iter()
        .map(|p| (p.to_string(), p.to_string()))
        .collect();
    if let Some(custom) = get("listener.security.protocol.map") {
        for pair in custom.split(',') {
            if let Some((name, proto)) = pair.trim().split_once(':') {
                map.insert(
                    name.trim().to_ascii_uppercase(),
                    proto.trim().to_ascii_uppercase(),
                );
            }
        }
    }
    let controllers: Vec<String> = get("controller.listener.names")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    let mut candidates = Vec::new();
    for listener in listeners
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (name, address) = listener
            .split_once("://")
            .ok_or_else(|| format!("listener {listener:?} is not NAME://host:port"))?;
        let name = name.to_ascii_uppercase();
        if controllers.contains(&name) {
            continue;
        }
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| format!("listener {listener:?} has no port"))?;
        let host = match host {
            "" | "0.0.0.0" | "::" | "[::]" => "localhost",
            h => h,
        };
        let protocol = map
            .get(&name)
            .cloned()
            .ok_or_else(|| format!("listener {name} is not in listener.security.protocol.map"))?;
        candidates.push((name, format!("{host}:{port}"), protocol));
    }
    let inter_broker = get("inter.broker.listener.name").map(|n| n.trim().to_ascii_uppercase());
    let chosen = match wanted_protocol {
        Some(p) => candidates.iter().find(|c| c.2.eq_ignore_ascii_case(p)),
        None => inter_broker
            .and_then(|n| candidates.iter().find(|c| c.0 == n))
            .or_else(|| candidates.first()),
    };
    let (name, servers, protocol) = chosen.ok_or_else(|| match wanted_protocol {
        Some(p) => format!("no broker listener uses security protocol {p}; set confluent.support.metrics.bootstrap.servers"),
        None => "the broker has no client listener; set confluent.support.metrics.bootstrap.servers".to_owned(),
    })?;
    Ok(Bootstrap {
        servers: servers.clone(),
        protocol: Some(protocol.to_ascii_lowercase()),
        listener: Some(name.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn explicit_servers_win() {
        let b = bootstrap(
            Some("k1:9092,k2:9092"),
            props(&[("listeners", "PLAINTEXT://x:1")]),
            None,
        )
        .unwrap();
        assert_eq!(
            b,
            Bootstrap {
                servers: "k1:9092,k2:9092".into(),
                protocol: None,
                listener: None,
            }
        );
    }

    #[test]
    fn from_listeners() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            (&[], None, "localhost:9092", "plaintext"),
            (
                &[("listeners", "PLAINTEXT://0.0.0.0:9092")],
                None,
                "localhost:9092",
                "plaintext",
            ),
            (
                &[
                    ("listeners", "PLAINTEXT://:9092"),
                    ("advertised.listeners", "PLAINTEXT://kafka-0:9092"),
                ],
                None,
                "kafka-0:9092",
                "plaintext",
            ),
            (
                &[
                    (
                        "listeners",
                        "CONTROLLER://:9093,INTERNAL://[::]:9094,EXTERNAL://:9092",
                    ),
                    (
                        "listener.security.protocol.map",
                        "CONTROLLER:PLAINTEXT,INTERNAL:SSL,EXTERNAL:SASL_SSL",
                    ),
                    ("controller.listener.names", "CONTROLLER"),
                    ("inter.broker.listener.name", "INTERNAL"),
                ],
                None,
                "localhost:9094",
                "ssl",
            ),
            (
                &[
                    ("listeners", "INTERNAL://:9094,EXTERNAL://:9092"),
                    (
                        "listener.security.protocol.map",
                        "INTERNAL:SSL,EXTERNAL:SASL_SSL",
                    ),
                ],
                Some("SASL_SSL"),
                "localhost:9092",
                "sasl_ssl",
            ),
        ];
        for (pairs, wanted, servers, protocol) in cases {
            let b = bootstrap(None, props(pairs), *wanted).unwrap();
            assert_eq!(
                (b.servers.as_str(), b.protocol.as_deref()),
                (*servers, Some(*protocol)),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn clear_errors() {
        let e = bootstrap(None, props(&[("listeners", "INTERNAL://:9094")]), None).unwrap_err();
        assert!(
            e.contains("INTERNAL is not in listener.security.protocol.map"),
            "{e}"
        );
        let e = bootstrap(
            None,
            props(&[("listeners", "PLAINTEXT://:9092")]),
            Some("SSL"),
        )
        .unwrap_err();
        assert!(
            e.contains("no broker listener uses security protocol SSL"),
            "{e}"
        );
        let e = bootstrap(None, props(&[("listeners", "localhost:9092")]), None).unwrap_err();
        assert!(e.contains("is not NAME://host:port"), "{e}");
    }
}
