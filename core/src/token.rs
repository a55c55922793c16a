//! The broker token: a random (version 4) UUID, new for every agent start, never stored.

use core::fmt;
use heapless::String;

/// A lowercase `8-4-4-4-12` UUIDv4 string built from caller-supplied random bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BrokerToken(String<36>);

impl BrokerToken {
    /// Builds the token from 16 random bytes (the shell takes them from the OS).
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::new();
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                let _ = s.push('-');
            }
            let _ = s.push(char::from(HEX[usize::from(b >> 4)]));
            let _ = s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(s)
    }

    /// The 36-character string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `s` has the shape of a token: lowercase hex `8-4-4-4-12`, version 4.
    pub fn is_token(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 36
            && b.iter().enumerate().all(|(i, &c)| match i {
                8 | 13 | 18 | 23 => c == b'-',
                _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
            })
            && b[14] == b'4'
            && matches!(b[19], b'8' | b'9' | b'a' | b'b')
    }
}

impl fmt::Display for BrokerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::BrokerToken;

    #[test]
    fn golden() {
        let t = BrokerToken::from_random_bytes([0; 16]);
        assert_eq!(t.as_str(), "00000000-0000-4000-8000-000000000000");
        let t = BrokerToken::from_random_bytes([0xff; 16]);
        assert_eq!(t.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let bytes: [u8; 16] = core::array::from_fn(|i| (i as u8) * 17);
        let t = BrokerToken::from_random_bytes(bytes);
        assert_eq!(t.as_str(), "00112233-4455-4677-8899-aabbccddeeff");
    }

    /// Every value of each byte position gives a well-formed token (M `UuidTest` shape).
    #[test]
    fn always_well_formed() {
        for pos in 0..16 {
            for v in 0..=255u8 {
                let mut bytes = [0x5a; 16];
                bytes[pos] = v;
                let t = BrokerToken::from_random_bytes(bytes);
                assert!(BrokerToken::is_token(t.as_str()), "{t}");
            }
        }
        assert!(!BrokerToken::is_token(
            "00000000-0000-0000-0000-000000000000"
        ));
        assert!(!BrokerToken::is_token(
            "00000000-0000-4000-8000-00000000000A"
        ));
        assert!(!BrokerToken::is_token(""));
    }
}
