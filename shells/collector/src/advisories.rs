//! The operator's advisories file: version ranges with a message, and the latest release.
//! Answers the agents (`informationForUser`, `confluentPlatformVersion`) and marks affected
//! brokers in the fleet view.
//!
//! ```toml
//! # The newest Confluent Platform release, sent back as confluentPlatformVersion.
//! latest = "7.9.1"
//!
//! [[advisory]]
//! id = "KAFKA-LOG-2025-01"
//! kafka = ">= 3.0.0, < 3.7.2"        # or: confluentPlatform = ">= 7.0.0, < 7.7.2"
//! message = "Kafka 3.0.0 to 3.7.1 can lose log segments on unclean shutdown; upgrade to 3.7.2."
//! ```

use std::cmp::Ordering;
use std::path::Path;

use serde::Deserialize;

/// The largest advisories file read.
pub const MAX_FILE_LEN: u64 = 1 << 20;

/// The file, checked.
#[derive(Clone, Debug, Default)]
pub struct Advisories {
    /// The newest release, if the operator names one.
    pub latest: Option<String>,
    /// Every advisory, in file order.
    pub list: Vec<Advisory>,
}

/// One advisory.
#[derive(Clone, Debug)]
pub struct Advisory {
    /// The operator's name for it.
    pub id: String,
    /// Shown to affected brokers' operators (the agent logs it) and on the fleet page.
    pub message: String,
    /// Kafka versions it concerns.
    pub kafka: Option<Range>,
    /// Confluent Platform versions it concerns.
    pub confluent_platform: Option<Range>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    latest: Option<String>,
    #[serde(default)]
    advisory: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Entry {
    id: String,
    message: String,
    kafka: Option<String>,
    confluent_platform: Option<String>,
}

impl Advisories {
    /// Reads and checks `path`; the error is one line naming the file and the cause.
    /// Only a regular file of at most [`MAX_FILE_LEN`] bytes is read (a FIFO would block).
    pub fn load(path: &Path) -> Result<Advisories, String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let bytes = crate::files::read_small(path, MAX_FILE_LEN).map_err(|e| fail(&e))?;
        let text = String::from_utf8(bytes).map_err(|_| fail(&"not UTF-8 text"))?;
        Self::parse(&text).map_err(|e| fail(&e))
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<Advisories, String> {
        let file: File = toml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
        let mut list = Vec::new();
        for (i, e) in file.advisory.into_iter().enumerate() {
            let n = i + 1;
            let range = |key: &str, r: Option<String>| {
                r.map(|r| {
                    Range::parse(&r).map_err(|why| format!("advisory {n} ({}): {key}: {why}", e.id))
                })
                .transpose()
            };
            let kafka = range("kafka", e.kafka.clone())?;
            let confluent_platform = range("confluentPlatform", e.confluent_platform.clone())?;
            if kafka.is_none() && confluent_platform.is_none() {
                return Err(format!(
                    "advisory {n} ({}): needs kafka or confluentPlatform (a version range)",
                    e.id
                ));
            }
            list.push(Advisory {
                id: e.id,
                message: e.message,
                kafka,
                confluent_platform,
            });
        }
        Ok(Advisories {
            latest: file.latest,
            list,
        })
    }

    /// The advisories a broker with these versions is affected by.
    pub fn matching<'a>(
        &'a self,
        kafka: &'a str,
        cp: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Advisory> + 'a {
        self.list.iter().filter(move |a| a.affects(kafka, cp))
    }

    /// The answer to a record: the matching messages, and the latest release.
    pub fn answer(&self, kafka: &str, cp: Option<&str>) -> serde_json::Value {
        let mut answer = serde_json::Map::new();
        let messages: Vec<&str> = self
            .matching(kafka, cp)
            .map(|a| a.message.as_str())
            .collect();
        if !messages.is_empty() {
            answer.insert("informationForUser".into(), messages.join(" ").into());
        }
        if let Some(latest) = &self.latest {
            answer.insert("confluentPlatformVersion".into(), latest.clone().into());
        }
        answer.into()
    }
}

impl Advisory {
    /// Whether a broker with these versions is affected: every range given must hold.
    pub fn affects(&self, kafka: &str, cp: Option<&str>) -> bool {
        let kafka_ok = self.kafka.as_ref().is_none_or(|r| r.contains(kafka));
        let cp_ok = match (&self.confluent_platform, cp) {
            (None, _) => true,
            (Some(r), Some(v)) => r.contains(v),
            (Some(_), None) => false,
        };
        kafka_ok && cp_ok
    }
}

/// Comparators joined by commas, all of which must hold: `>= 3.0.0, < 3.7.2`, `= 2.8.1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range(Vec<(Op, Version)>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Range {
    /// Parses a range; the error names the part that is wrong.
    pub fn parse(text: &str) -> Result<Range, String> {
        let mut parts = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (op, rest) = [
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
                ("=", Op::Eq),
            ]
            .iter()
            .find_map(|(p, op)| part.strip_prefix(p).map(|r| (*op, r.trim())))
            .ok_or_else(|| format!("{part:?} does not start with <, <=, >, >= or ="))?;
            let v = Version::parse(rest)
                .ok_or_else(|| format!("{rest:?} is not a version like 3.7.2"))?;
            parts.push((op, v));
        }
        Ok(Range(parts))
    }

    /// Whether `version` is in the range; a version that does not parse (`unknown`) never is.
    pub fn contains(&self, version: &str) -> bool {
        let Some(v) = Version::parse(version) else {
            return false;
        };
        self.0.iter().all(|(op, bound)| {
            let o = v.cmp(bound);
            match op {
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                Op::Eq => o == Ordering::Equal,
            }
        })
    }
}

/// The numbers of a dotted version, up to four; what follows them (`-ce`, `-ccs`) is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version([u32; 4]);

impl Version {
    /// `3.7.2`, `7.6.1-ce`, `3.8`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Version> {
        let numeric = text.split(['-', '+', ' ']).next()?;
        let mut out = [0u32; 4];
        for (n, part) in numeric.split('.').enumerate() {
            if n == 4
                || part.is_empty()
                || part.len() > 9
                || !part.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            out[n] = part.parse().ok()?;
        }
        Some(Version(out))
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_as_written() {
        let r = Range::parse(">= 3.0.0, < 3.7.2").unwrap();
        assert!(r.contains("3.0.0") && r.contains("3.7.1") && r.contains("3.7.1-ce"));
        assert!(!r.contains("3.7.2") && !r.contains("2.8.2") && !r.contains("unknown"));
        assert!(Range::parse("= 2.8.1").unwrap().contains("2.8.1"));
        assert!(Range::parse("~ 1.0")
            .unwrap_err()
            .contains("does not start"));
        assert!(Range::parse(">= x").unwrap_err().contains("not a version"));
    }

    #[test]
    fn answer_names_matching_messages_and_latest() {
        let a = Advisories::parse(
            "latest = \"7.9.1\"\n[[advisory]]\nid = \"A\"\nkafka = \"< 3.7.2\"\nmessage = \"Upgrade Kafka.\"\n\
             [[advisory]]\nid = \"B\"\nconfluentPlatform = \">= 7.0.0\"\nmessage = \"CP note.\"\n",
        )
        .unwrap();
        assert_eq!(
            a.answer("3.6.0", None).to_string(),
            r#"{"informationForUser":"Upgrade Kafka.","confluentPlatformVersion":"7.9.1"}"#
        );
        assert_eq!(
            a.answer("3.8.0", None).to_string(),
            r#"{"confluentPlatformVersion":"7.9.1"}"#
        );
        assert_eq!(a.matching("3.8.0", Some("7.8.0")).count(), 1);
    }

    #[test]
    fn bad_files_say_where() {
        let e = Advisories::parse("[[advisory]]\nid = \"X\"\nmessage = \"m\"\n").unwrap_err();
        assert!(e.contains("advisory 1 (X)"), "{e}");
        let e = Advisories::parse("colour = 1\n").unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }
}
