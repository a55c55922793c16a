//! Fuzz bodies, behind the private `_fuzzing` feature. Each `fuzz/fuzz_targets/*.rs` is one
//! call into this module, and `tests/corpus.rs` replays the checked-in seeds through it, so
//! every seed runs in plain `cargo test`. Each function panics when an invariant breaks.

use crate::config::ConfigBuilder;
use crate::customer::CustomerClass;
use crate::properties::{ParseError, PropertiesParser, Property};
use crate::wire::OwnedAnonymousRecord;

const CAP: usize = 512;

/// FNV-1a over the event stream, so two runs can be compared without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
    fn property(&mut self, p: &Property<'_>) {
        self.bytes(p.key.as_bytes());
        self.bytes(p.value.as_bytes());
        self.bytes(&p.line.to_le_bytes());
    }
}

/// A parser as the fuzz bodies drive it: the real one or the reference model.
trait Parser {
    fn next<'s>(&'s mut self, input: &mut &[u8]) -> Result<Option<Property<'s>>, ParseError>;
    fn finish(&mut self) -> Result<Option<Property<'_>>, ParseError>;
}

impl<const N: usize> Parser for PropertiesParser<N> {
    fn next<'s>(&'s mut self, input: &mut &[u8]) -> Result<Option<Property<'s>>, ParseError> {
        PropertiesParser::next(self, input)
    }
    fn finish(&mut self) -> Result<Option<Property<'_>>, ParseError> {
        PropertiesParser::finish(self)
    }
}

impl<const N: usize> Parser for reference::ReferenceParser<N> {
    fn next<'s>(&'s mut self, input: &mut &[u8]) -> Result<Option<Property<'s>>, ParseError> {
        reference::ReferenceParser::next(self, input)
    }
    fn finish(&mut self) -> Result<Option<Property<'_>>, ParseError> {
        reference::ReferenceParser::finish(self)
    }
}

fn digest_chunks<'a>(
    mut parser: impl Parser,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> (Digest, usize, Result<(), ParseError>) {
    let mut digest = Digest::new();
    let mut count = 0;
    let run = || {
        for mut chunk in chunks {
            while let Some(p) = parser.next(&mut chunk)? {
                digest.property(&p);
                count += 1;
            }
        }
        if let Some(p) = parser.finish()? {
            digest.property(&p);
            count += 1;
        }
        Ok(())
    };
    let result = run();
    (digest, count, result)
}

/// The first byte picks a chunk size (1..=64); parsing in those chunks must give exactly the
/// events and error of parsing the rest in one piece, and both must match the byte-at-a-time
/// reference parser.
pub fn properties(data: &[u8]) {
    let Some((&size, input)) = data.split_first() else {
        return;
    };
    let size = usize::from(size % 64) + 1;
    let whole = digest_chunks(PropertiesParser::<CAP>::new(), core::iter::once(input));
    let chunked = digest_chunks(PropertiesParser::<CAP>::new(), input.chunks(size));
    assert_eq!(whole, chunked, "chunk size {size}");
    let reference = digest_chunks(reference::ReferenceParser::<CAP>::new(), input.chunks(size));
    assert_eq!(whole, reference, "reference, chunk size {size}");
}

/// Building a config from arbitrary bytes never panics; reading in one piece agrees with
/// feeding the parser's events by hand; an accepted config satisfies its invariants.
pub fn config(data: &[u8]) {
    let mut direct = ConfigBuilder::new();
    let direct_read = direct.read::<CAP>(data, |_| {});
    let mut parser = PropertiesParser::<CAP>::new();
    let mut builder = ConfigBuilder::new();
    let mut input = data;
    let streamed = (|| {
        while let Some(p) = parser.next(&mut input)? {
            builder.handle(&p);
        }
        if let Some(p) = parser.finish()? {
            builder.handle(&p);
        }
        Ok::<_, ParseError>(())
    })();
    assert_eq!(direct_read, streamed);
    if streamed.is_err() {
        return;
    }
    let (a, b) = (direct.build(), builder.build());
    assert_eq!(a, b);
    if let Ok((config, _)) = a {
        assert!((1..=crate::config::MAX_INTERVAL_HOURS).contains(&config.report_interval_hours()));
        assert_eq!(
            CustomerClass::of(config.customer_id()),
            Some(config.customer_class())
        );
        let scheme_is = |url: Option<&str>, scheme: &str| {
            url.is_none_or(|u| {
                u.get(..scheme.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            })
        };
        assert!(scheme_is(config.secure_endpoint(), "https://"));
        assert!(scheme_is(config.insecure_endpoint(), "http://"));
    }
}

/// Any record that decodes re-encodes to bytes that decode to the same record, and the
/// encoder's length prediction is exact; the spool's `check_record` (anonymous and customer
/// records) never panics and agrees with the decoder.
pub fn record(data: &[u8]) {
    // The spool's check agrees with the decoder on anonymous records, and never panics.
    let checked = crate::wire::check_record(data);
    if let Ok(c) = checked {
        assert!(
            c.customer || OwnedAnonymousRecord::decode(data).is_ok(),
            "an anonymous record the decoder refuses passed the check"
        );
        // Its class and the endpoint it fits agree: exactly one of the three.
        assert_eq!(
            c.customer,
            c.class != crate::customer::CustomerClass::Anonymous
        );
        let fits = ["anon", "test", "submit"]
            .iter()
            .filter(|e| c.fits_endpoint(e))
            .count();
        assert_eq!(fits, 1, "a record fits exactly one endpoint");
    }
    let Ok(record) = OwnedAnonymousRecord::decode(data) else {
        return;
    };
    let c = checked.expect("a decoded anonymous record passes the check");
    assert!(!c.customer && c.state == record.collector_state);
    assert_eq!(c.token.text().as_str(), record.broker_process_uuid.as_str());
    let view = record.as_record();
    let mut buf = [0u8; 1024];
    let n = view.encode(&mut buf).expect("a decoded record fits 1 KiB");
    assert_eq!(n, view.encoded_len());
    let again = OwnedAnonymousRecord::decode(&buf[..n]).expect("re-encoded record decodes");
    assert_eq!(again, record);
}

/// The `sasl.jaas.config` parser never panics; what it accepts re-reads the same (every
/// option once through the iterator and `option`), and an unescaped value is never longer, in
/// characters, than its text.
pub fn jaas(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let module = match crate::jaas::parse(text) {
        Ok(m) => m,
        Err(e) => {
            assert!(e.at <= text.len(), "error offset past the end");
            return;
        }
    };
    assert!(!module.class().is_empty());
    for (name, value) in module.options() {
        assert!(!name.is_empty());
        let raw = value.chars().count();
        assert!(module.option(name).is_some());
        assert!(raw <= text.chars().count());
    }
}

mod reference;
mod reporter;
pub use reporter::{reporter, Checker, MAX_IDS};
