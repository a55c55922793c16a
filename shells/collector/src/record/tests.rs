use super::*;

const TOKEN: &str = "00112233-4455-4677-8899-aabbccddeeff";

fn anon() -> String {
    format!(
        r#"{{"timestamp":1764000000,"kafkaVersion":"3.7.0","confluentPlatformVersion":null,"brokerProcessUUID":"{TOKEN}","collectorState":2}}"#
    )
}

#[test]
fn an_anonymous_record_fits_anon_only() {
    let row = decode(anon().as_bytes(), Some("anon")).unwrap();
    assert_eq!(
        (row.token.as_str(), row.timestamp, row.state, row.class),
        (TOKEN, 1_764_000_000, 2, "anonymous")
    );
    assert_eq!(row.kafka_version, "3.7.0");
    assert!(row.customer.is_none());
    let e = decode(anon().as_bytes(), Some("submit")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "an anonymous record belongs on /anon, not /submit"
    );
}

#[test]
fn not_records_are_refused_with_the_cores_reason() {
    for bad in [
        &b"not json"[..],
        br#"{"timestamp":1}"#,
        anon().replace("}", r#","extra":1}"#).as_bytes(),
    ] {
        assert!(matches!(
            decode(bad, Some("anon")),
            Err(Reject::NotARecord(_))
        ));
    }
    assert_eq!(
        decode(&vec![b' '; MAX_RECORD_LEN + 1], None),
        Err(Reject::TooLarge)
    );
}

/// A control character in a record's string, escaped or raw, is refused with the core's
/// reason (PostgreSQL would refuse a NUL in text, failing every record committed with it).
#[test]
fn control_characters_are_refused_with_the_cores_reason() {
    for bad in [r"3.7\u0000", r"3.7\u001b[2J", "3.7\u{1}", r"3.7\n"] {
        let body = anon().replace("3.7.0", bad);
        assert_eq!(
            decode(body.as_bytes(), Some("anon")),
            Err(Reject::NotARecord(
                "a string in the record holds a control character".into()
            )),
            "{body}"
        );
    }
}
