//! Validation of the HTTP(S) URLs in the config: endpoints and the proxy.
//!
//! Accepts `scheme://[user[:password]@]host[:port][/path][?query]` with scheme `http` or
//! `https`. Rejects what Apache's `UrlValidator` (the reference's check) rejects and what
//! would make a request go somewhere unexpected: whitespace, control characters, fragments,
//! empty hosts, bad ports.

use core::fmt;

use crate::ascii::{self, contains_any};

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Scheme {
    /// Plain text.
    Http,
    /// TLS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The parts of a valid URL, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HttpUrl<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// `user[:password]` before the `@`, if any.
    pub userinfo: Option<&'a str>,
    /// Host name, IPv4 address, or `[IPv6]` with its brackets.
    pub host: &'a str,
    /// The explicit port, if any.
    pub port: Option<u16>,
    /// Path and query, starting with `/` or `?`, or empty.
    pub path: &'a str,
}

/// Why a URL was refused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UrlError {
    /// No `scheme://` prefix.
    MissingScheme,
    /// A scheme other than `http` or `https`.
    UnsupportedScheme,
    /// Whitespace or a control character somewhere.
    InvalidCharacter,
    /// Nothing between `://` and the path.
    MissingHost,
    /// A host with characters no host name or address has.
    InvalidHost,
    /// A port that is empty, not a number, 0, or above 65535.
    InvalidPort,
    /// A `#fragment`, which is never sent.
    Fragment,
    /// `user:password@` in an endpoint URL: endpoints take no credentials (only the proxy
    /// does), so none can leak into logs or go to a host read from the wrong side of `@`.
    Credentials,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::MissingScheme => "not a URL (expected http://host/... or https://host/...)",
            UrlError::UnsupportedScheme => "the scheme must be http or https",
            UrlError::InvalidCharacter => "contains whitespace, a control character or a backslash",
            UrlError::MissingHost => "has no host",
            UrlError::InvalidHost => "has an invalid host",
            UrlError::InvalidPort => "has an invalid port (1-65535)",
            UrlError::Fragment => "has a #fragment",
            UrlError::Credentials => "carries credentials (user:password@); endpoints take none",
        })
    }
}

impl core::error::Error for UrlError {}

impl<'a> HttpUrl<'a> {
    /// Parses and validates `s`.
    pub fn parse(s: &'a str) -> Result<Self, UrlError> {
        // A backslash is a path separator to some clients and part of the authority to
        // others: refused, so the host shown is the host connected to.
        if s.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
            return Err(UrlError::InvalidCharacter);
        }
        // By hand: `split_once("://")` brings in the two-way substring searcher, 1 KiB of
        // code on a microcontroller.
        let sep = s
            .as_bytes()
            .windows(3)
            .position(|w| w == b"://")
            .ok_or(UrlError::MissingScheme)?;
        let (scheme, rest) = (
            s.get(..sep).unwrap_or_default(),
            s.get(sep + 3..).unwrap_or_default(),
        );
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(UrlError::UnsupportedScheme);
        } else {
            return Err(UrlError::MissingScheme);
        };
        if contains_any(rest, b"#") {
            return Err(UrlError::Fragment);
        }
        let end = rest
            .bytes()
            .position(|b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let (authority, path) = (
            rest.get(..end).unwrap_or_default(),
            rest.get(end..).unwrap_or_default(),
        );
        let (userinfo, hostport) = match ascii::rsplit_once(authority, b'@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = split_port(hostport)?;
        validate_host(host)?;
        Ok(HttpUrl {
            scheme,
            userinfo,
            host,
            port,
            path,
        })
    }

    /// Displays the URL with any password replaced by `***`: safe to log.
    pub fn redacted(&self) -> Redacted<'_, 'a> {
        Redacted(self)
    }
}

/// `text` as it may be shown: when it looks like a URL with `user:password@` (valid or
/// not), the credentials become `***`. For values that failed validation, where
/// [`HttpUrl::redacted`] cannot be used.
pub fn redact_credentials(text: &str) -> RedactedText<'_> {
    RedactedText(text)
}

/// See [`redact_credentials`].
#[derive(Clone, Copy, Debug)]
pub struct RedactedText<'a>(&'a str);

impl fmt::Display for RedactedText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let start = s
            .as_bytes()
            .windows(3)
            .position(|w| w == b"://")
            .map_or(0, |p| p + 3);
        let rest = s.get(start..).unwrap_or_default();
        let end = rest
            .bytes()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or_default();
        match authority.bytes().rposition(|b| b == b'@') {
            Some(at) => {
                f.write_str(s.get(..start).unwrap_or_default())?;
                f.write_str("***")?;
                f.write_str(rest.get(at..).unwrap_or_default())
            }
            None => f.write_str(s),
        }
    }
}

/// See [`HttpUrl::redacted`].
#[derive(Clone, Copy, Debug)]
pub struct Redacted<'u, 'a>(&'u HttpUrl<'a>);

impl fmt::Display for Redacted<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = self.0;
        write!(f, "{}://", u.scheme.as_str())?;
        if let Some(info) = u.userinfo {
            match info.split_once(':') {
                Some((user, _)) => write!(f, "{user}:***@")?,
                None => write!(f, "{info}@")?,
            }
        }
        f.write_str(u.host)?;
        if let Some(port) = u.port {
            write!(f, ":{port}")?;
        }
        f.write_str(u.path)
    }
}

fn split_port(hostport: &str) -> Result<(&str, Option<u16>), UrlError> {
    let colon = if hostport.starts_with('[') {
        let close = hostport
            .bytes()
            .position(|b| b == b']')
            .ok_or(UrlError::InvalidHost)?;
        match hostport.get(close + 1..).unwrap_or_default() {
            "" => None,
            r if r.starts_with(':') => Some(close + 1),
            _ => return Err(UrlError::InvalidHost),
        }
    } else {
        hostport.bytes().rposition(|b| b == b':')
    };
    let Some(colon) = colon else {
        return Ok((hostport, None));
    };
    let (host, digits) = ascii::split_around(hostport, colon);
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::InvalidPort);
    }
    match digits.parse::<u16>() {
        Ok(p) if p > 0 => Ok((host, Some(p))),
        _ => Err(UrlError::InvalidPort),
    }
}

fn validate_host(host: &str) -> Result<(), UrlError> {
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(UrlError::InvalidHost)?;
        let ok = contains_any(inner, b":")
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        return if ok {
            Ok(())
        } else {
            Err(UrlError::InvalidHost)
        };
    }
    let labels_ok = ascii::split(host, b'.').enumerate().all(|(i, label)| {
        // A single trailing dot (fully qualified name) is fine.
        (label.is_empty() && i > 0 && host.ends_with('.') && host.len() > 1)
            || (!label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    });
    if labels_ok
        && host.len() <= 253
        && !host.starts_with('.')
        && !host.as_bytes().windows(2).any(|w| w == b"..")
    {
        Ok(())
    } else {
        Err(UrlError::InvalidHost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn accepts_reference_endpoints_and_local_urls() {
        let u = HttpUrl::parse("https://support-metrics.confluent.io/anon").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.path),
            (Scheme::Https, "support-metrics.confluent.io", None, "/anon")
        );
        let u = HttpUrl::parse("http://127.0.0.1:8080/submit?x=1").unwrap();
        assert_eq!(
            (u.host, u.port, u.path),
            ("127.0.0.1", Some(8080), "/submit?x=1")
        );
        let u = HttpUrl::parse("HTTP://localhost").unwrap();
        assert_eq!((u.scheme, u.host, u.path), (Scheme::Http, "localhost", ""));
        let u = HttpUrl::parse("http://[::1]:3128").unwrap();
        assert_eq!((u.host, u.port), ("[::1]", Some(3128)));
        HttpUrl::parse("http://example.com").unwrap();
        HttpUrl::parse("https://example.com").unwrap();
        HttpUrl::parse("https://host.example.com./x").unwrap();
    }

    #[test]
    fn rejects_with_reasons() {
        let cases = [
            ("anyValue", UrlError::MissingScheme),
            ("proxy:3128", UrlError::MissingScheme),
            ("://host", UrlError::MissingScheme),
            ("ftp://host/x", UrlError::UnsupportedScheme),
            ("https://", UrlError::MissingHost),
            ("https:///path", UrlError::MissingHost),
            ("https://user@", UrlError::MissingHost),
            ("https://ho st/", UrlError::InvalidCharacter),
            ("https://host/\tx", UrlError::InvalidCharacter),
            ("https://host:/", UrlError::InvalidPort),
            ("https://host:0/", UrlError::InvalidPort),
            ("https://host:65536/", UrlError::InvalidPort),
            ("https://host:8o/", UrlError::InvalidPort),
            ("https://ho$t/", UrlError::InvalidHost),
            ("https://-host/", UrlError::InvalidHost),
            ("https://a..b/", UrlError::InvalidHost),
            ("https://[::1/", UrlError::InvalidHost),
            ("https://[zz]/", UrlError::InvalidHost),
            ("https://host/#frag", UrlError::Fragment),
        ];
        for (url, want) in cases {
            assert_eq!(HttpUrl::parse(url), Err(want), "{url}");
        }
    }

    #[test]
    fn redaction_hides_only_the_password() {
        let u = HttpUrl::parse("http://alice:s3cret@proxy.example.com:3128").unwrap();
        assert_eq!(u.userinfo, Some("alice:s3cret"));
        let shown = u.redacted().to_string();
        assert_eq!(shown, "http://alice:***@proxy.example.com:3128");
        let u = HttpUrl::parse("http://alice@proxy:3128/").unwrap();
        assert_eq!(u.redacted().to_string(), "http://alice@proxy:3128/");
        // A password containing '@' still parses: the last '@' ends the userinfo.
        let u = HttpUrl::parse("http://bob:p@ss@proxy:3128").unwrap();
        assert_eq!((u.userinfo, u.host), (Some("bob:p@ss"), "proxy"));
        assert_eq!(u.redacted().to_string(), "http://bob:***@proxy:3128");
    }
}
