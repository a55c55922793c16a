use super::*;
extern crate std;
use std::vec;

const TOKEN: &str = "00112233-4455-4677-8899-aabbccddeeff";

fn record(kafka: &str) -> AnonymousRecord<'_> {
    AnonymousRecord {
        timestamp: 1_764_000_000,
        kafka_version: kafka,
        confluent_platform_version: Some("0.1.0"),
        broker_process_uuid: TOKEN,
        collector_state: CollectorState::Running,
    }
}

#[test]
fn golden_bytes() {
    let mut buf = [0u8; 256];
    let n = record("3.7.0").encode(&mut buf).unwrap();
    assert_eq!(
        core::str::from_utf8(&buf[..n]).unwrap(),
        r#"{"timestamp":1764000000,"kafkaVersion":"3.7.0","confluentPlatformVersion":"0.1.0","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":2}"#
    );
    let mut r = record("3.7.0");
    r.collector_state = CollectorState::ShuttingDown;
    r.timestamp = 0;
    let n = r.encode(&mut buf).unwrap();
    assert!(buf[..n].ends_with(br#""collectorState":1}"#));
    assert!(buf[..n].starts_with(br#"{"timestamp":0,"#));
}

#[test]
fn too_small_says_how_much_is_needed() {
    let r = record("3.7.0\"\n\u{1}é");
    let need = r.encoded_len();
    let mut big = vec![0u8; need];
    assert_eq!(r.encode(&mut big), Ok(need));
    for size in [0, 1, need / 2, need - 1] {
        let mut small = vec![0u8; size];
        assert_eq!(
            r.encode(&mut small),
            Err(EncodeError::BufferTooSmall { required: need })
        );
    }
}

/// `encoded_len` agrees with the encoder for every character class the escaper knows.
#[test]
fn encoded_len_matches_encoder() {
    let samples = [
        "",
        "3.7.0",
        "a\"b\\c",
        "\u{0}\u{1f}\t\r\n\u{8}\u{c}",
        "é€😀",
        "\u{7f}\u{2028}",
    ];
    for kafka in samples {
        for ts in [0, 9, 10, 99, 1_764_000_000, u64::MAX] {
            let mut r = record(kafka);
            r.timestamp = ts;
            r.confluent_platform_version = Some(kafka);
            let mut buf = [0u8; 512];
            let n = r.encode(&mut buf).unwrap();
            assert_eq!(n, r.encoded_len(), "{kafka:?} {ts}");
        }
    }
}

#[test]
fn round_trip_including_escapes() {
    for kafka in ["3.7.0", "with \"quotes\" and \\", "é€😀\u{2028}"] {
        let r = record(kafka);
        let mut buf = [0u8; 512];
        let n = r.encode(&mut buf).unwrap();
        let back = OwnedAnonymousRecord::decode(&buf[..n]).unwrap();
        assert_eq!(back.as_record(), r);
    }
    // The encoder escapes control characters; the decoder refuses them all the same.
    for kafka in ["tab\tnew\nline", "\u{0}", "\u{7f}", "\u{9b}"] {
        let r = record(kafka);
        let mut buf = [0u8; 512];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(
            OwnedAnonymousRecord::decode(&buf[..n]),
            Err(DecodeError::DecodeControlCharacter),
            "{kafka:?}"
        );
    }
}

#[test]
fn decode_is_strict() {
    let ok = br#" {"timestamp":1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":1} "#;
    assert!(OwnedAnonymousRecord::decode(ok).is_ok());
    let cases: &[(&[u8], DecodeError)] = &[
        (b"", DecodeError::DecodeJson),
        (b"{}", DecodeError::DecodeJson),
        (br#"{"timestamp":1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":1,"clusterId":"x"}"#, DecodeError::DecodeJson),
        (br#"{"timestamp":1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":0}"#, DecodeError::DecodeJson),
        (br#"{"timestamp":-1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":1}"#, DecodeError::DecodeJson),
        (br#"{"timestamp":1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"not-a-uuid","collectorState":1}"#, DecodeError::DecodeBadToken),
        (br#"{"timestamp":1,"kafkaVersion":"k","confluentPlatformVersion":"c","brokerProcessUUID":"00112233-4455-4677-8899-aabbccddeeff","collectorState":1}x"#, DecodeError::DecodeTrailingBytes),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            OwnedAnonymousRecord::decode(bytes),
            Err(*want),
            "{}",
            core::str::from_utf8(bytes).unwrap()
        );
    }
    let long = std::format!(
        r#"{{"timestamp":1,"kafkaVersion":"{}","confluentPlatformVersion":"c","brokerProcessUUID":"{TOKEN}","collectorState":1}}"#,
        "9".repeat(MAX_VERSION_LEN + 1)
    );
    assert_eq!(
        OwnedAnonymousRecord::decode(long.as_bytes()),
        Err(DecodeError::DecodeJson)
    );
}

/// The record never holds anything but the five documented keys.
#[test]
fn exactly_five_keys() {
    let mut buf = [0u8; 256];
    let n = record("3.7.0").encode(&mut buf).unwrap();
    let text = core::str::from_utf8(&buf[..n]).unwrap();
    let keys: std::vec::Vec<&str> = text
        .split('"')
        .collect::<std::vec::Vec<_>>()
        .windows(2)
        .filter(|w| w[1].starts_with(':'))
        .map(|w| w[0])
        .collect();
    assert_eq!(
        keys,
        [
            "timestamp",
            "kafkaVersion",
            "confluentPlatformVersion",
            "brokerProcessUUID",
            "collectorState"
        ]
    );
}

#[test]
fn a_broker_that_is_not_confluent_platform_has_a_null_platform_version() {
    let mut r = record("3.7.0");
    r.confluent_platform_version = None;
    let mut buf = [0u8; 512];
    let n = r.encode(&mut buf).unwrap();
    let text = core::str::from_utf8(&buf[..n]).unwrap();
    assert!(
        text.contains(r#""confluentPlatformVersion":null"#),
        "{text}"
    );
    assert_eq!(n, r.encoded_len());
    let back = OwnedAnonymousRecord::decode(&buf[..n]).unwrap();
    assert_eq!(back.confluent_platform_version, None);
    // The key must be there, null or a string.
    let missing = text.replace(r#""confluentPlatformVersion":null,"#, "");
    assert!(
        OwnedAnonymousRecord::decode(missing.as_bytes()).is_err(),
        "{missing}"
    );
}

#[test]
fn the_bound_holds_for_the_longest_record() {
    let worst = "\u{1}".repeat(MAX_VERSION_LEN);
    let r = AnonymousRecord {
        timestamp: u64::MAX,
        kafka_version: &worst,
        confluent_platform_version: Some(&worst),
        broker_process_uuid: TOKEN,
        collector_state: CollectorState::ShuttingDown,
    };
    assert_eq!(r.encoded_len(), MAX_ANONYMOUS_LEN);
    let mut small = [0u8; 16];
    assert_eq!(
        r.encode_bounded(&mut small),
        Err(EncodeError::BufferTooSmall {
            required: MAX_ANONYMOUS_LEN
        })
    );
    let mut buf = [0u8; MAX_ANONYMOUS_LEN];
    assert_eq!(r.encode_bounded(&mut buf), Ok(MAX_ANONYMOUS_LEN));
}
