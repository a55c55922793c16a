//! One-percent jitter on the report interval, as the reference implementation adds it, in
//! 64-bit arithmetic.

/// Returns a value in `[value, value + value / 100)`, chosen by `random`; values below 100
/// come back unchanged, as in the reference.
///
/// The reference cast the value to 32 bits first, which broke intervals of 597 hours or more;
/// here every `u64` works. `random` is mapped onto the range by multiplication, so all 64 bits
/// count and no division is needed.
pub fn jitter(value: u64, random: u64) -> u64 {
    let bound = value / 100;
    // (random * bound) / 2^64 < bound, so it fits in u64.
    let offset = ((u128::from(random) * u128::from(bound)) >> 64) as u64;
    value.saturating_add(offset)
}

#[cfg(test)]
mod tests {
    use super::jitter;
    extern crate std;

    /// As the reference implementation's jitter test: each base stays within `[base, base + base/100]`,
    /// with the reference's negatives (not representable here) replaced by their magnitudes.
    #[test]
    fn reference_vectors() {
        for base in [0u64, 1, 99, 100, 101, 1000, 2232, 10000, 38742] {
            for random in [0, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
                let j = jitter(base, random);
                assert!(
                    j >= base && j <= base + base / 100,
                    "{base} {random} -> {j}"
                );
            }
        }
        for base in [0, 1, 99, 100, 101] {
            assert_eq!(jitter(base, u64::MAX), base);
        }
        let range: std::vec::Vec<u64> = (0..=u8::MAX)
            .map(|r| jitter(1000, u64::from(r) << 56))
            .collect();
        assert_eq!(range.iter().min(), Some(&1000));
        assert_eq!(range.iter().max(), Some(&1009));
    }

    #[test]
    fn half_open_and_spread() {
        let v = 86_400_000; // 24 h in ms
        assert_eq!(jitter(v, 0), v);
        assert_eq!(jitter(v, u64::MAX), v + v / 100 - 1);
        assert_eq!(jitter(v, 1 << 63), v + v / 200);
    }

    /// The reference broke at 597 h (> 2^31 ms); 10 000 h and u64::MAX must work.
    #[test]
    fn no_overflow() {
        let ten_thousand_hours = 10_000u64 * 3_600_000;
        assert_eq!(
            jitter(ten_thousand_hours, u64::MAX),
            ten_thousand_hours * 101 / 100 - 1
        );
        let v = 597 * 3_600_000;
        assert!(jitter(v, u64::MAX) > v);
        assert_eq!(jitter(u64::MAX, u64::MAX), u64::MAX);
    }
}
