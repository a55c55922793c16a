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

fn customer_record(id: &str) -> String {
    format!(
        r#"{{"timestamp":1764000000,"kafkaVersion":"7.6.1-ce","confluentPlatformVersion":"7.6.1","brokerProcessUUID":"{TOKEN}","collectorState":1,"customerId":"{id}","clusterId":"MkU3OEVBNTcwNTJENDM2Qk","brokerId":3,"cluster":{{"brokers":3,"topics":12,"partitions":60,"replicationFactorHistogram":[0,0,0,60,0,0]}},"host":{{"os":"linux","arch":"x86_64","cpus":8,"memoryBytes":17179869184}},"agentUptimeSecs":60,"brokerConfiguration":{{"num.partitions":"3"}}}}"#
    )
}

/// The collector reads a record's facts with a JSON reader of its own after the core's
/// check: the two must agree on every input, or a record the core calls ours gets the
/// reader's error (or a record is stored with facts the core never saw). Records mutated
/// at random, 100 000 times from a fixed seed, with the bytes that break JSON readers most.
#[test]
fn the_cores_check_and_the_readers_facts_agree_on_mutated_records() {
    const PIECES: &[&str] = &[
        "\"",
        "\\",
        "\\u0000",
        "\\u001f",
        "\\u007f",
        "\\u0080",
        "\\u009b",
        "\\ud800",
        "\\ud83d\\ude00",
        "\\n",
        "\\/",
        "\u{1}",
        "\t",
        " ",
        "\u{feff}",
        "\u{2028}",
        "é",
        "😀",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "0",
        "-0",
        "1e3",
        "1.0",
        "18446744073709551616",
        "null",
        "true",
        "\"x\":1",
        "\"timestamp\":1",
        "\"collectorState\":2",
    ];
    let seeds = [anon(), customer_record("C123456789"), customer_record("c0")];
    let mut rng = support_metrics_core::rand::Rng::new(0x5eed_c011_ec70_0001);
    let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
    let (mut ours, mut refused) = (0, 0);
    for _ in 0..100_000 {
        let mut bytes = seeds[pick(seeds.len())].clone().into_bytes();
        for _ in 0..1 + pick(3) {
            let at = pick(bytes.len() + 1);
            match pick(4) {
                0 => {
                    let piece = PIECES[pick(PIECES.len())].as_bytes();
                    bytes.splice(at..at, piece.iter().copied());
                }
                1 if at < bytes.len() => {
                    let end = (at + 1 + pick(8)).min(bytes.len());
                    bytes.drain(at..end);
                }
                2 if at < bytes.len() => bytes[at] = pick(256) as u8,
                _ => {
                    let piece = PIECES[pick(PIECES.len())].as_bytes();
                    let end = (at + piece.len()).min(bytes.len());
                    bytes.splice(at..end, piece.iter().copied());
                }
            }
        }
        let core = check_record(&bytes);
        let read = decode(&bytes, None);
        match (&core, &read) {
            (Ok(c), Ok(row)) => {
                ours += 1;
                assert_eq!(row.token, c.token.to_string());
                assert_eq!(row.timestamp as u64, c.timestamp.min(i64::MAX as u64));
                assert_eq!(row.class, c.class.as_str());
                assert_eq!(row.customer.is_some(), c.customer);
            }
            (Err(_), Err(Reject::NotARecord(_))) => refused += 1,
            _ => panic!(
                "core {core:?} but reader {read:?} for {:?}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
    // Both outcomes are exercised.
    assert!(
        ours > 1_000 && refused > 50_000,
        "{ours} ours, {refused} refused"
    );
}
