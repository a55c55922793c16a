//! Key and trust stores as Java clients name them, made readable for librdkafka: PEM files are
//! used as they are, PKCS12 keystores are read by librdkafka itself (after a check here that
//! the password opens them), PKCS12 truststores are turned into PEM in memory, and JKS is
//! refused with the command that converts it.

use std::path::Path;

use openssl::pkcs12::Pkcs12;

use crate::properties_file::read_bounded;

/// What a store file holds, by its first bytes (whatever `ssl.*.type` says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Pem,
    Pkcs12,
    /// Java's own keystore (magic `FEEDFEED`) or its JCEKS variant (`CECECECE`).
    Jks,
    Unknown,
}

/// The format of `bytes`.
pub(crate) fn sniff(bytes: &[u8]) -> Format {
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    if bytes[text_start..].starts_with(b"-----BEGIN ") || bytes.starts_with(b"Bag Attributes") {
        return Format::Pem;
    }
    if bytes.starts_with(&[0xfe, 0xed, 0xfe, 0xed]) || bytes.starts_with(&[0xce, 0xce, 0xce, 0xce])
    {
        return Format::Jks;
    }
    // PFX ::= SEQUENCE { version INTEGER (3), ... }: 30 <length> 02 01 03.
    if bytes.first() == Some(&0x30) {
        let after_len = match bytes.get(1) {
            Some(&l) if l < 0x80 => 2,
            Some(&l) if (0x81..=0x84).contains(&l) => 2 + usize::from(l - 0x80),
            _ => return Format::Unknown,
        };
        if bytes.get(after_len..after_len + 3) == Some(&[0x02, 0x01, 0x03]) {
            return Format::Pkcs12;
        }
    }
    Format::Unknown
}

/// Reads a store file (a regular file, bounded, without blocking).
pub(crate) fn read(path: &str) -> Result<Vec<u8>, String> {
    read_bounded(Path::new(path)).map_err(|e| format!("cannot read {path}: {e}"))
}

/// The refusal of a JKS store, with the one command that converts it.
pub(crate) fn jks_refusal(path: &str, java_key: &str) -> String {
    let p12 = match path.strip_suffix(".jks") {
        Some(stem) => format!("{stem}.p12"),
        None => format!("{path}.p12"),
    };
    format!(
        "{path} is a JKS keystore, which librdkafka cannot read; convert it once with \
         `keytool -importkeystore -srckeystore {path} -srcstoretype JKS -destkeystore {p12} -deststoretype PKCS12` \
         and set {java_key}={p12} with the same password"
    )
}

fn open(
    der: &[u8],
    password: Option<&str>,
    path: &str,
) -> Result<openssl::pkcs12::ParsedPkcs12_2, String> {
    let refused = || {
        format!(
            "cannot open PKCS12 file {path}: wrong password, or a damaged file{}",
            if password.is_none() {
                " (no password given)"
            } else {
                ""
            }
        )
    };
    let p12 = Pkcs12::from_der(der).map_err(|_| refused())?;
    p12.parse2(password.unwrap_or("")).map_err(|_| refused())
}

/// Every certificate of a PKCS12 truststore, as PEM text (for `ssl.ca.pem`).
pub(crate) fn pkcs12_ca_pem(
    der: &[u8],
    password: Option<&str>,
    path: &str,
) -> Result<String, String> {
    let parsed = open(der, password, path)?;
    let mut pem = String::new();
    let certs = parsed
        .cert
        .into_iter()
        .chain(parsed.ca.into_iter().flatten());
    for cert in certs {
        let text = cert
            .to_pem()
            .map_err(|e| format!("cannot convert a certificate of {path}: {e}"))?;
        pem.push_str(&String::from_utf8_lossy(&text));
    }
    if pem.is_empty() {
        return Err(format!("PKCS12 file {path} holds no certificate"));
    }
    Ok(pem)
}

/// Checks that a PKCS12 keystore opens with `password` and holds a key and its certificate.
pub(crate) fn pkcs12_keystore_check(
    der: &[u8],
    password: Option<&str>,
    path: &str,
) -> Result<(), String> {
    let parsed = open(der, password, path)?;
    if parsed.pkey.is_none() || parsed.cert.is_none() {
        return Err(format!(
            "PKCS12 file {path} holds no private key with its certificate (is it a truststore?)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_their_first_bytes() {
        assert_eq!(sniff(b"\n-----BEGIN CERTIFICATE-----\n"), Format::Pem);
        assert_eq!(
            sniff(b"Bag Attributes\n    friendlyName: x\n-----BEGIN"),
            Format::Pem
        );
        assert_eq!(sniff(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]), Format::Jks);
        assert_eq!(sniff(&[0xce, 0xce, 0xce, 0xce]), Format::Jks);
        assert_eq!(
            sniff(&[0x30, 0x82, 0x0a, 0x1b, 0x02, 0x01, 0x03]),
            Format::Pkcs12
        );
        assert_eq!(sniff(&[0x30, 0x45, 0x02, 0x01, 0x03]), Format::Pkcs12);
        assert_eq!(
            sniff(&[0x30, 0x82, 0x0a, 0x1b, 0x02, 0x01, 0x01]),
            Format::Unknown
        );
        assert_eq!(sniff(b""), Format::Unknown);
        assert_eq!(sniff(b"hello"), Format::Unknown);
    }

    #[test]
    fn jks_refusal_names_the_command() {
        let line = jks_refusal("/etc/kafka/ssl/truststore.jks", "ssl.truststore.location");
        assert!(line.contains("keytool -importkeystore -srckeystore /etc/kafka/ssl/truststore.jks -srcstoretype JKS -destkeystore /etc/kafka/ssl/truststore.p12 -deststoretype PKCS12"), "{line}");
        assert!(
            line.contains("ssl.truststore.location=/etc/kafka/ssl/truststore.p12"),
            "{line}"
        );
    }
}
