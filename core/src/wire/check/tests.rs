use super::*;
use crate::wire::{AnonymousRecord, ClusterFacts, CustomerFacts, CustomerRecord, HostFacts};
extern crate std;
use std::vec::Vec;

const TOKEN: &str = "00112233-4455-4677-8899-aabbccddeeff";

fn anonymous() -> AnonymousRecord<'static> {
    AnonymousRecord {
        timestamp: 1_764_000_000,
        kafka_version: "3.7.0",
        confluent_platform_version: Some("0.1.0"),
        broker_process_uuid: TOKEN,
        collector_state: CollectorState::Running,
    }
}

fn customer(config: &'static [(&'static str, &'static str)]) -> Vec<u8> {
    let record = CustomerRecord {
        anonymous: anonymous(),
        facts: CustomerFacts {
            customer_id: "C123456789",
            cluster_id: "MkU3OEVBNTcwNTJENDM2Qk",
            broker_id: Some(-1),
            cluster: ClusterFacts::default(),
            host: HostFacts {
                os: "linux",
                arch: "x86_64",
                cpus: 8,
                memory_bytes: 1 << 34,
            },
            agent_uptime_secs: 7,
            broker_configuration: config,
        },
    };
    let mut buf = std::vec![0u8; record.encoded_len()];
    let n = record.encode(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn what_the_encoder_writes_passes() {
    let mut buf = [0u8; 512];
    let n = anonymous().encode(&mut buf).unwrap();
    let c = check_record(&buf[..n]).unwrap();
    assert_eq!(c.token, BrokerToken::parse(TOKEN).unwrap());
    assert_eq!(
        (c.state, c.timestamp, c.customer),
        (CollectorState::Running, 1_764_000_000, false)
    );
    let c = check_record(&customer(&[("num.partitions", "3"), ("log.dirs", "/x")])).unwrap();
    assert!(c.customer);
}

#[test]
fn anything_else_fails() {
    let good = customer(&[("num.partitions", "3")]);
    let text = core::str::from_utf8(&good).unwrap();
    let bad: [&[u8]; 8] = [
        b"",
        b"secret password file\n",
        br#"{"brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff"}"#,
        // An extra key.
        br#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2,"x":1}"#,
        // A token that is not a UUIDv4.
        br#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-0677-8899-aabbccddeeff","collectorState":2}"#,
        // collectorState 0.
        br#"{"timestamp":1,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":0}"#,
        &[b' '; MAX_RECORD_LEN + 1],
        b"{}",
    ];
    for bytes in bad {
        assert!(
            check_record(bytes).is_err(),
            "{:?}",
            core::str::from_utf8(bytes)
        );
    }
    // A setting the allowlist does not allow, smuggled into a customer record.
    let smuggled = text.replace(r#""num.partitions":"3""#, r#""ssl.keystore.password":"x""#);
    assert!(check_record(smuggled.as_bytes()).is_err());
    let unplain = text.replace(r#""num.partitions":"3""#, r#""num.partitions":"a b""#);
    assert!(check_record(unplain.as_bytes()).is_err());
}

#[test]
fn a_record_fits_the_endpoint_of_its_class() {
    let mut buf = [0u8; 512];
    let n = anonymous().encode(&mut buf).unwrap();
    let anon = check_record(&buf[..n]).unwrap();
    assert_eq!(anon.class, CustomerClass::Anonymous);
    assert!(
        anon.fits_endpoint("anon") && !anon.fits_endpoint("submit") && !anon.fits_endpoint("test")
    );
    let paying = check_record(&customer(&[])).unwrap();
    assert_eq!(paying.class, CustomerClass::Customer);
    assert!(paying.fits_endpoint("submit") && !paying.fits_endpoint("anon"));
    let good = customer(&[]);
    let text = core::str::from_utf8(&good).unwrap();
    let test = check_record(text.replace("C123456789", "c0").as_bytes()).unwrap();
    assert_eq!(test.class, CustomerClass::Test);
    assert!(test.fits_endpoint("test") && !test.fits_endpoint("submit"));
    // A customer record whose customerId is not a customer ID is not one of ours.
    for id in ["anonymous", "c12x", ""] {
        let bad = text.replace("C123456789", id);
        assert_eq!(
            check_record(bad.as_bytes()),
            Err(DecodeError::DecodeJson),
            "{id}"
        );
    }
}

#[test]
fn an_anonymous_record_with_a_bad_token_says_so() {
    let mut buf = [0u8; 512];
    let n = anonymous().encode(&mut buf).unwrap();
    let text = core::str::from_utf8(&buf[..n]).unwrap();
    let bad = text.replace(TOKEN, "00112233-4455-1677-8899-aabbccddeeff");
    assert_eq!(
        check_record(bad.as_bytes()),
        Err(DecodeError::DecodeBadToken)
    );
}

/// A control character in any string of a record, escaped (`\u0000`, `\n`, `\u009b`) or raw
/// (which JSON does not allow inside a string): not one of ours, and said so. Such a string
/// would reach a reader's log or terminal, and PostgreSQL refuses a NUL in text.
#[test]
fn a_control_character_in_a_string_says_so() {
    let mut buf = [0u8; 512];
    let n = anonymous().encode(&mut buf).unwrap();
    let anon = core::str::from_utf8(&buf[..n]).unwrap();
    let cust = customer(&[("num.partitions", "3")]);
    let cust = core::str::from_utf8(&cust).unwrap();
    let mut cases = 0;
    for control in [
        r"\u0000",
        r"\n",
        r"\u001b[2J",
        r"\u007f",
        r"\u009b",
        "\u{1}",
        "\t",
    ] {
        for (text, value) in [
            (anon, "3.7.0"),
            (anon, "0.1.0"),
            (cust, "3.7.0"),
            (cust, "0.1.0"),
            (cust, "MkU3OEVBNTcwNTJENDM2Qk"),
            (cust, "linux"),
            (cust, "x86_64"),
        ] {
            let bad = text.replacen(value, &std::format!("{value}{control}"), 1);
            assert_eq!(
                check_record(bad.as_bytes()),
                Err(DecodeError::DecodeControlCharacter),
                "{bad}"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 49);
    // Escapes of printable characters are still fine.
    let escaped = anon.replacen("3.7.0", r"3.7\u002e0\/x", 1);
    assert!(check_record(escaped.as_bytes()).is_ok());
}

#[test]
fn plain_strings_are_what_a_record_can_carry() {
    let long = "x".repeat(MAX_VERSION_LEN);
    assert!(crate::wire::is_plain(&long) && crate::wire::is_plain("MkU3OEVBNTcwNTJENDM2Qk"));
    for bad in [&*std::format!("{long}x"), "a\u{0}", "a\nb", "\u{9b}"] {
        assert!(!crate::wire::is_plain(bad), "{bad:?}");
    }
}
