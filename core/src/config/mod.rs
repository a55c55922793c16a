//! The Proactive Support settings of a broker's `server.properties`: a builder fed with
//! [`Property`] events, validation, and the effective [`SupportConfig`].
//!
//! Improvements on the reference implementation: a boolean that is not `true`/`false` in
//! any case is an error instead of a silent `false`; values are trimmed of ASCII whitespace
//! (a trailing blank in a hand-edited file is never meant); endpoints, proxy and topic are
//! validated up front rather than failing later; unknown `confluent.support.*` keys draw a
//! warning naming them. As in the reference, an invalid customer ID falls back to `anonymous`
//! with a warning, and the last occurrence of a key wins.

mod keys;

use core::fmt;
use heapless::String;

pub use keys::{is_secret_key, suggest, Key, Suggestion, CLIENT_PREFIX, PREFIX, SECRET_WORDS};

use crate::ascii;
use crate::customer::{self, CustomerClass};
use crate::properties::{ParseError, PropertiesParser, Property};
use crate::url::{HttpUrl, Scheme, UrlError};

/// Longest value kept for any Proactive Support key.
pub const MAX_VALUE_LEN: usize = 256;
/// Kafka's limit on topic names.
pub const MAX_TOPIC_LEN: usize = 249;
/// Default topic.
pub const DEFAULT_TOPIC: &str = "__confluent.support.metrics";
/// Default report interval.
pub const DEFAULT_INTERVAL_HOURS: u32 = 24;
/// Largest report interval accepted: 100 years.
pub const MAX_INTERVAL_HOURS: u32 = 876_000;
/// Host of the default endpoints.
pub const DEFAULT_ENDPOINT_HOST: &str = "support-metrics.confluent.io";

/// Where an effective value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Source {
    /// Not set in the file.
    Default,
    /// Set on this line of the file (the last occurrence).
    Line(u32),
}

/// Something the operator should hear about; the config is still usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Warning<'a> {
    /// A `confluent.support.*` key that nothing reads: likely a typo or an old name.
    UnknownKey {
        /// The key as written.
        key: &'a str,
        /// Its line.
        line: u32,
    },
    /// The customer ID is not valid; reporting continues as `anonymous`.
    InvalidCustomerId {
        /// The ID as configured (trimmed).
        id: &'a str,
        /// Its line.
        line: u32,
    },
    /// The customer ID is set but empty; reporting continues as `anonymous`.
    EmptyCustomerId {
        /// Its line.
        line: u32,
    },
}

impl Warning<'_> {
    /// For an unknown key, the key it probably means. Worked out on demand: a device that
    /// never shows warnings never links the edit distance.
    pub fn suggestion(&self) -> Option<Suggestion> {
        match *self {
            Warning::UnknownKey { key, .. } => Some(suggest(key)),
            _ => None,
        }
    }
}

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Warning::UnknownKey { key, line } => {
                write!(f, "line {line}: unknown setting {key}")?;
                match suggest(key) {
                    Suggestion::Renamed(k) => write!(f, " (renamed; use {k})"),
                    Suggestion::DidYouMean(k) => write!(f, " (did you mean {k}?)"),
                    Suggestion::None => write!(f, " (ignored)"),
                }
            }
            Warning::InvalidCustomerId { id, line } => write!(
                f,
                "line {line}: '{id}' is not a valid Confluent customer ID -- falling back to id 'anonymous'"
            ),
            Warning::EmptyCustomerId { line } => write!(
                f,
                "line {line}: no customer ID configured -- falling back to id 'anonymous'"
            ),
        }
    }
}

/// Why a topic name is not a legal Kafka topic name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TopicError {
    /// Longer than 249 characters.
    TooLong,
    /// A character other than ASCII letters, digits, `.`, `_` and `-`.
    InvalidCharacter,
    /// `.` or `..`.
    Dots,
}

/// What is wrong with a setting.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reason {
    /// Not `true` or `false` (any case).
    NotABoolean,
    /// Not a whole number.
    NotAnInteger,
    /// Below 1.
    IntervalTooSmall,
    /// Above [`MAX_INTERVAL_HOURS`].
    IntervalTooLarge,
    /// Not a legal topic name.
    InvalidTopic(TopicError),
    /// Not a valid URL.
    InvalidUrl(UrlError),
    /// A valid URL with the other scheme (e.g. `http://` as the secure endpoint).
    WrongScheme {
        /// The scheme this key needs.
        expected: Scheme,
    },
    /// The proxy must be an `http://` proxy (HTTPS goes through it with CONNECT).
    ProxyNotHttp,
    /// The proxy URL has a path or query.
    ProxyHasPath,
    /// Longer than [`MAX_VALUE_LEN`] bytes.
    TooLong,
    /// Not a comma-separated list of `host:port`.
    InvalidBootstrapServers,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotABoolean => f.write_str("expected true or false"),
            Reason::NotAnInteger => f.write_str("not a whole number"),
            Reason::IntervalTooSmall => f.write_str("interval must be >= 1"),
            Reason::IntervalTooLarge => write!(f, "interval must be <= {MAX_INTERVAL_HOURS}"),
            Reason::InvalidTopic(TopicError::TooLong) => {
                write!(f, "topic names have at most {MAX_TOPIC_LEN} characters")
            }
            Reason::InvalidTopic(TopicError::InvalidCharacter) => {
                f.write_str("topic names may only contain ASCII letters, digits, '.', '_' and '-'")
            }
            Reason::InvalidTopic(TopicError::Dots) => {
                f.write_str("'.' and '..' are not topic names")
            }
            Reason::InvalidUrl(e) => write!(f, "URL {e}"),
            Reason::WrongScheme { expected } => {
                write!(f, "this endpoint must be an {}:// URL", expected.as_str())
            }
            Reason::ProxyNotHttp => f.write_str("the proxy must be an http:// URL"),
            Reason::ProxyHasPath => f.write_str("the proxy URL must not have a path or query"),
            Reason::TooLong => write!(f, "longer than {MAX_VALUE_LEN} bytes"),
            Reason::InvalidBootstrapServers => f.write_str("expected host:port[,host:port...]"),
        }
    }
}

/// An invalid setting: which key, its value and line, and why. Borrows the value from the
/// [`ConfigBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConfigError<'a> {
    /// The setting.
    pub key: Key,
    /// Its line in the file.
    pub line: u32,
    /// The value as written (cut at [`MAX_VALUE_LEN`] bytes when that is the problem).
    pub value: &'a str,
    /// What is wrong.
    pub reason: Reason,
}

impl fmt::Display for ConfigError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs may carry credentials: never shown.
        let value = crate::url::redact_credentials(self.value);
        write!(
            f,
            "line {}: invalid value \"{}\" for {}: {}",
            self.line,
            EscapeDebug(&value),
            self.key,
            self.reason
        )
    }
}

/// Writes a `Display` value escaped as `{:?}` escapes a string (quotes not added).
struct EscapeDebug<'a, T>(&'a T);

impl<T: fmt::Display> fmt::Display for EscapeDebug<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Escaping<'f, 'g>(&'f mut fmt::Formatter<'g>);
        impl fmt::Write for Escaping<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                write!(self.0, "{}", s.escape_debug())
            }
        }
        fmt::write(&mut Escaping(f), format_args!("{}", self.0))
    }
}

impl core::error::Error for ConfigError<'_> {}

#[derive(Clone, Debug)]
struct Slot {
    value: String<MAX_VALUE_LEN>,
    line: u32,
    too_long: bool,
}

/// Collects the Proactive Support keys from property events; [`build`](Self::build) validates.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    slots: [Option<Slot>; Key::ALL.len()],
}

impl ConfigBuilder {
    /// An empty builder: building it gives the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one property. Returns a warning for an unknown `confluent.support.*` key; other
    /// keys are ignored. Later occurrences of a key replace earlier ones.
    pub fn handle<'p>(&mut self, p: &Property<'p>) -> Option<Warning<'p>> {
        let Some(key) = Key::from_name(p.key) else {
            let client_setting =
                p.key.len() > CLIENT_PREFIX.len() && p.key.starts_with(CLIENT_PREFIX);
            return (p.key.starts_with(PREFIX) && !client_setting).then_some(Warning::UnknownKey {
                key: p.key,
                line: p.line,
            });
        };
        let mut value = String::new();
        let too_long = value.push_str(p.value).is_err();
        if too_long {
            // Keep a prefix for the error message, cut at a character boundary.
            let mut cut = MAX_VALUE_LEN;
            while !p.value.is_char_boundary(cut) {
                cut -= 1;
            }
            let _ = value.push_str(p.value.get(..cut).unwrap_or_default());
        }
        self.slots[key.index()] = Some(Slot {
            value,
            line: p.line,
            too_long,
        });
        None
    }

    /// Parses a whole properties document held in memory, with line capacity `N`, taking every
    /// property and calling `on_warning` for unknown `confluent.support.*` keys.
    pub fn read<const N: usize>(
        &mut self,
        mut input: &[u8],
        mut on_warning: impl FnMut(Warning<'_>),
    ) -> Result<(), ParseError> {
        let mut parser = PropertiesParser::<N>::new();
        while let Some(p) = parser.next(&mut input)? {
            if let Some(w) = self.handle(&p) {
                on_warning(w);
            }
        }
        if let Some(p) = parser.finish()? {
            if let Some(w) = self.handle(&p) {
                on_warning(w);
            }
        }
        Ok(())
    }

    /// The last value and line seen for `key`, untrimmed.
    pub fn raw(&self, key: Key) -> Option<(&str, u32)> {
        self.slots[key.index()]
            .as_ref()
            .map(|s| (s.value.as_str(), s.line))
    }

    /// Validates and resolves defaults. The warning, if any, is about the customer ID.
    pub fn build(&self) -> Result<(SupportConfig, Option<Warning<'_>>), ConfigError<'_>> {
        let mut sources = [Source::Default; Key::ALL.len()];
        for key in Key::ALL {
            if let Some(slot) = &self.slots[key.index()] {
                sources[key.index()] = Source::Line(slot.line);
                if slot.too_long {
                    return Err(self.error(key, Reason::TooLong));
                }
            }
        }
        let enabled = self.boolean(Key::Enable)?;
        let (customer_id, customer_class, warning) = self.customer();
        let report_interval_hours = self.interval()?;
        let topic = self.topic()?;
        let secure_endpoint = self.endpoint(
            Key::SecureEndpoint,
            Key::SecureEndpointEnable,
            Scheme::Https,
            customer_class,
        )?;
        let insecure_endpoint = self.endpoint(
            Key::InsecureEndpoint,
            Key::InsecureEndpointEnable,
            Scheme::Http,
            customer_class,
        )?;
        let proxy = self.proxy()?;
        let bootstrap_servers = self.bootstrap_servers()?;
        let endpoint_ca_file = self.path(Key::EndpointCaFile);
        let spool_dir = self.path(Key::SpoolDir);
        let config = SupportConfig {
            enabled,
            secure_endpoint_enabled: self.boolean(Key::SecureEndpointEnable)?,
            insecure_endpoint_enabled: self.boolean(Key::InsecureEndpointEnable)?,
            customer_id,
            customer_class,
            report_interval_hours,
            topic,
            secure_endpoint,
            insecure_endpoint,
            proxy,
            bootstrap_servers,
            endpoint_ca_file,
            spool_dir,
            sources,
        };
        Ok((config, warning))
    }

    fn value(&self, key: Key) -> Option<(&str, u32)> {
        self.slots[key.index()]
            .as_ref()
            .map(|s| (s.value.trim_ascii(), s.line))
    }

    fn error(&self, key: Key, reason: Reason) -> ConfigError<'_> {
        let slot = self.slots[key.index()].as_ref();
        ConfigError {
            key,
            line: slot.map_or(0, |s| s.line),
            value: slot.map_or("", |s| s.value.as_str()),
            reason,
        }
    }

    fn boolean(&self, key: Key) -> Result<bool, ConfigError<'_>> {
        match self.value(key) {
            None => Ok(true),
            Some((v, _)) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some((v, _)) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(self.error(key, Reason::NotABoolean)),
        }
    }

    fn customer(
        &self,
    ) -> (
        String<{ customer::MAX_LEN + 1 }>,
        CustomerClass,
        Option<Warning<'_>>,
    ) {
        let mut id = String::new();
        let (class, warning) = match self.value(Key::CustomerId) {
            None => (CustomerClass::Anonymous, None),
            Some(("", line)) => (
                CustomerClass::Anonymous,
                Some(Warning::EmptyCustomerId { line }),
            ),
            Some((v, line)) => match CustomerClass::of(v) {
                // Valid IDs are at most 31 ASCII bytes, so they fit.
                Some(class) if id.push_str(v).is_ok() => (class, None),
                _ => (
                    CustomerClass::Anonymous,
                    Some(Warning::InvalidCustomerId { id: v, line }),
                ),
            },
        };
        if warning.is_some() || id.is_empty() {
            id.clear();
            let _ = id.push_str(customer::ANONYMOUS);
        }
        (id, class, warning)
    }

    fn interval(&self) -> Result<u32, ConfigError<'_>> {
        let key = Key::ReportIntervalHours;
        match self.value(key) {
            // As the reference: missing or empty means the default.
            None | Some(("", _)) => Ok(DEFAULT_INTERVAL_HOURS),
            Some((v, _)) => {
                let digits = v.strip_prefix('+').unwrap_or(v);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    let negative = v
                        .strip_prefix('-')
                        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
                    let reason = if negative {
                        Reason::IntervalTooSmall
                    } else {
                        Reason::NotAnInteger
                    };
                    return Err(self.error(key, reason));
                }
                match digits.parse::<u32>() {
                    Ok(0) => Err(self.error(key, Reason::IntervalTooSmall)),
                    Ok(h) if h <= MAX_INTERVAL_HOURS => Ok(h),
                    _ => Err(self.error(key, Reason::IntervalTooLarge)),
                }
            }
        }
    }

    fn topic(&self) -> Result<Option<String<MAX_TOPIC_LEN>>, ConfigError<'_>> {
        let name = match self.value(Key::Topic) {
            None => DEFAULT_TOPIC,
            Some(("", _)) => return Ok(None),
            Some((v, _)) => v,
        };
        let problem = if name.len() > MAX_TOPIC_LEN {
            Some(TopicError::TooLong)
        } else if name == "." || name == ".." {
            Some(TopicError::Dots)
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            Some(TopicError::InvalidCharacter)
        } else {
            None
        };
        if let Some(e) = problem {
            return Err(self.error(Key::Topic, Reason::InvalidTopic(e)));
        }
        let mut topic = String::new();
        let _ = topic.push_str(name);
        Ok(Some(topic))
    }

    fn endpoint(
        &self,
        key: Key,
        enable: Key,
        scheme: Scheme,
        class: CustomerClass,
    ) -> Result<Option<String<MAX_VALUE_LEN>>, ConfigError<'_>> {
        if !self.boolean(enable)? {
            return Ok(None);
        }
        let mut url = String::new();
        match self.value(key) {
            None => {
                // Pieces, not `write!`: the formatting machinery is 1 KiB on a microcontroller.
                // The default URL is far shorter than the capacity.
                for piece in [
                    scheme.as_str(),
                    "://",
                    DEFAULT_ENDPOINT_HOST,
                    "/",
                    class.endpoint_suffix(),
                ] {
                    let _ = url.push_str(piece);
                }
            }
            Some(("", _)) => return Ok(None),
            Some((v, _)) => {
                let parsed =
                    HttpUrl::parse(v).map_err(|e| self.error(key, Reason::InvalidUrl(e)))?;
                if parsed.userinfo.is_some() {
                    return Err(self.error(key, Reason::InvalidUrl(UrlError::Credentials)));
                }
                if parsed.scheme != scheme {
                    return Err(self.error(key, Reason::WrongScheme { expected: scheme }));
                }
                let _ = url.push_str(v);
            }
        }
        Ok(Some(url))
    }

    /// `host:port[,host:port...]`; an empty value means "derive from the listeners".
    fn bootstrap_servers(&self) -> Result<Option<String<MAX_VALUE_LEN>>, ConfigError<'_>> {
        let key = Key::BootstrapServers;
        let v = match self.value(key) {
            None | Some(("", _)) => return Ok(None),
            Some((v, _)) => v,
        };
        let valid = ascii::split(v, b',').map(str::trim_ascii).all(|server| {
            let Some((host, port)) = ascii::rsplit_once(server, b':') else {
                return false;
            };
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            !host.is_empty()
                && !ascii::contains_any(host, b"/ @")
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !valid {
            return Err(self.error(key, Reason::InvalidBootstrapServers));
        }
        Ok(Some(copy(v)))
    }

    /// A path; empty means unset. Whether it exists is for the shell to find out.
    fn path(&self, key: Key) -> Option<String<MAX_VALUE_LEN>> {
        match self.value(key) {
            None | Some(("", _)) => None,
            Some((v, _)) => Some(copy(v)),
        }
    }

    fn proxy(&self) -> Result<Option<String<MAX_VALUE_LEN>>, ConfigError<'_>> {
        let key = Key::Proxy;
        let v = match self.value(key) {
            None | Some(("", _)) => return Ok(None),
            Some((v, _)) => v,
        };
        let parsed = HttpUrl::parse(v).map_err(|e| self.error(key, Reason::InvalidUrl(e)))?;
        if parsed.scheme != Scheme::Http {
            return Err(self.error(key, Reason::ProxyNotHttp));
        }
        if !matches!(parsed.path, "" | "/") {
            return Err(self.error(key, Reason::ProxyHasPath));
        }
        let mut url = String::new();
        let _ = url.push_str(v);
        Ok(Some(url))
    }
}

/// `v` as a bounded string; callers have checked the length (slots hold at most as much).
fn copy(v: &str) -> String<MAX_VALUE_LEN> {
    let mut s = String::new();
    let _ = s.push_str(v);
    s
}

/// The effective Proactive Support settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SupportConfig {
    enabled: bool,
    secure_endpoint_enabled: bool,
    insecure_endpoint_enabled: bool,
    customer_id: String<{ customer::MAX_LEN + 1 }>,
    customer_class: CustomerClass,
    report_interval_hours: u32,
    topic: Option<String<MAX_TOPIC_LEN>>,
    secure_endpoint: Option<String<MAX_VALUE_LEN>>,
    insecure_endpoint: Option<String<MAX_VALUE_LEN>>,
    proxy: Option<String<MAX_VALUE_LEN>>,
    bootstrap_servers: Option<String<MAX_VALUE_LEN>>,
    endpoint_ca_file: Option<String<MAX_VALUE_LEN>>,
    spool_dir: Option<String<MAX_VALUE_LEN>>,
    sources: [Source; Key::ALL.len()],
}

impl Default for SupportConfig {
    /// The settings of a file without Proactive Support keys.
    fn default() -> Self {
        match ConfigBuilder::new().build() {
            Ok((config, _)) => config,
            // The defaults are valid; a test holds this.
            Err(_) => unreachable_defaults(),
        }
    }
}

#[cold]
fn unreachable_defaults() -> SupportConfig {
    SupportConfig {
        enabled: false,
        secure_endpoint_enabled: false,
        insecure_endpoint_enabled: false,
        customer_id: String::new(),
        customer_class: CustomerClass::Anonymous,
        report_interval_hours: DEFAULT_INTERVAL_HOURS,
        topic: None,
        secure_endpoint: None,
        insecure_endpoint: None,
        proxy: None,
        bootstrap_servers: None,
        endpoint_ca_file: None,
        spool_dir: None,
        sources: [Source::Default; Key::ALL.len()],
    }
}

impl SupportConfig {
    /// `confluent.support.metrics.enable`.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `confluent.support.metrics.endpoint.secure.enable`.
    pub fn secure_endpoint_enabled(&self) -> bool {
        self.secure_endpoint_enabled
    }

    /// `confluent.support.metrics.endpoint.insecure.enable`.
    pub fn insecure_endpoint_enabled(&self) -> bool {
        self.insecure_endpoint_enabled
    }

    /// Whether anything will be reported: enabled, and a topic or an endpoint is on.
    pub fn is_reporting(&self) -> bool {
        self.enabled && (self.topic.is_some() || self.has_http())
    }

    /// Whether any HTTP(S) endpoint is on.
    pub fn has_http(&self) -> bool {
        self.secure_endpoint.is_some() || self.insecure_endpoint.is_some()
    }

    /// The effective customer ID (as configured, casing kept), or `anonymous`.
    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    /// The class of the effective customer ID.
    pub fn customer_class(&self) -> CustomerClass {
        self.customer_class
    }

    /// Hours between reports (before jitter).
    pub fn report_interval_hours(&self) -> u32 {
        self.report_interval_hours
    }

    /// Milliseconds between reports (before jitter).
    pub fn report_interval_ms(&self) -> u64 {
        u64::from(self.report_interval_hours) * 3_600_000
    }

    /// The topic, or `None` when topic reporting is off.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// The HTTPS endpoint, or `None` when it is off.
    pub fn secure_endpoint(&self) -> Option<&str> {
        self.secure_endpoint.as_deref()
    }

    /// The HTTP endpoint, or `None` when it is off.
    pub fn insecure_endpoint(&self) -> Option<&str> {
        self.insecure_endpoint.as_deref()
    }

    /// The proxy URL as configured (may hold a password: show it with
    /// [`HttpUrl::redacted`]).
    pub fn proxy(&self) -> Option<HttpUrl<'_>> {
        self.proxy.as_deref().and_then(|p| HttpUrl::parse(p).ok())
    }

    /// `confluent.support.metrics.bootstrap.servers`, validated as `host:port[,...]`; `None`
    /// means the shell derives them from the broker's listeners.
    pub fn bootstrap_servers(&self) -> Option<&str> {
        self.bootstrap_servers.as_deref()
    }

    /// `confluent.support.metrics.endpoint.ca.file`: extra PEM roots for HTTPS.
    pub fn endpoint_ca_file(&self) -> Option<&str> {
        self.endpoint_ca_file.as_deref()
    }

    /// `confluent.support.metrics.spool.dir`; `None` means the shell's default.
    pub fn spool_dir(&self) -> Option<&str> {
        self.spool_dir.as_deref()
    }

    /// Where the value of `key` came from.
    pub fn source(&self, key: Key) -> Source {
        self.sources[key.index()]
    }
}

#[cfg(test)]
mod tests;
