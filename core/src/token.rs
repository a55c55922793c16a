//! The broker token: a random (version 4) UUID, new for every agent start, never stored.

use core::fmt;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A UUIDv4 built from caller-supplied random bytes, kept as its 16 bytes; [`text`](Self::text)
/// gives the lowercase `8-4-4-4-12` form records carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BrokerToken([u8; 16]);

/// A token's 36-character text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TokenText([u8; 36]);

impl BrokerToken {
    /// Builds the token from 16 random bytes (the shell takes them from the OS).
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        Self(bytes)
    }

    /// The token whose text is `s`, if `s` is one ([`is_token`](Self::is_token)).
    pub fn parse(s: &str) -> Option<Self> {
        if !Self::is_token(s) {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut digits = s.bytes().filter(|&c| c != b'-').map(|c| match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        });
        for b in &mut bytes {
            *b = (digits.next()? << 4) | digits.next()?;
        }
        Some(Self(bytes))
    }

    /// The 36-character text.
    pub fn text(&self) -> TokenText {
        // Position by position: the dashes after hex digits 8, 12, 16 and 20.
        TokenText(core::array::from_fn(|i| {
            let dashes = [8, 13, 18, 23].iter().filter(|&&d| d < i).count();
            if matches!(i, 8 | 13 | 18 | 23) {
                return b'-';
            }
            let digit = i - dashes;
            let byte = self.0[digit / 2];
            HEX[usize::from(if digit % 2 == 0 {
                byte >> 4
            } else {
                byte & 0x0f
            })]
        }))
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

impl TokenText {
    /// The text as a `str`.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and dashes are ever written.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for BrokerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::BrokerToken;

    #[test]
    fn golden() {
        let t = BrokerToken::from_random_bytes([0; 16]);
        assert_eq!(t.text().as_str(), "00000000-0000-4000-8000-000000000000");
        let t = BrokerToken::from_random_bytes([0xff; 16]);
        assert_eq!(t.text().as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let bytes: [u8; 16] = core::array::from_fn(|i| (i as u8) * 17);
        let t = BrokerToken::from_random_bytes(bytes);
        assert_eq!(t.text().as_str(), "00112233-4455-4677-8899-aabbccddeeff");
    }

    /// Every value of each byte position gives a well-formed token (the reference implementation's UUID test, in shape).
    #[test]
    fn always_well_formed() {
        for pos in 0..16 {
            for v in 0..=255u8 {
                let mut bytes = [0x5a; 16];
                bytes[pos] = v;
                let t = BrokerToken::from_random_bytes(bytes);
                assert!(BrokerToken::is_token(t.text().as_str()), "{t}");
                assert_eq!(BrokerToken::parse(t.text().as_str()), Some(t));
            }
        }
        assert!(!BrokerToken::is_token(
            "00000000-0000-0000-0000-000000000000"
        ));
        assert!(!BrokerToken::is_token(
            "00000000-0000-4000-8000-00000000000A"
        ));
        assert!(!BrokerToken::is_token(""));
        assert_eq!(
            BrokerToken::parse("00000000-0000-4000-8000-00000000000A"),
            None
        );
    }
}
