//! Customer IDs: which class an ID belongs to, and the endpoint suffix for it.
//!
//! Matching is ASCII: Java's `\d` and `[a-zA-Z0-9]` are ASCII-only, and no non-ASCII character
//! lower-cases into `anonymous` or `c0`, so ASCII case folding gives Java's answers exactly.

use core::fmt;

/// The longest syntactically valid ID: legacy `c` followed by 30 digits.
pub const MAX_LEN: usize = 31;

/// The ID used when none (or an invalid one) is configured.
pub const ANONYMOUS: &str = "anonymous";

/// What an ID means for collection and endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CustomerClass {
    /// `anonymous` in any case: the five-key record, `/anon` endpoints.
    Anonymous,
    /// `c0`/`C0`: a customer ID reserved for tests, `/test` endpoints.
    Test,
    /// A licensed customer: the enhanced record, `/submit` endpoints.
    Customer,
}

impl CustomerClass {
    /// Classifies `id`, or `None` when it is not syntactically valid.
    pub fn of(id: &str) -> Option<Self> {
        if is_anonymous(id) {
            Some(Self::Anonymous)
        } else if is_test(id) {
            Some(Self::Test)
        } else if is_customer(id) {
            Some(Self::Customer)
        } else {
            None
        }
    }

    /// The last path segment of the default endpoints: `anon`, `test` or `submit`.
    pub fn endpoint_suffix(self) -> &'static str {
        match self {
            Self::Anonymous => "anon",
            Self::Test => "test",
            Self::Customer => "submit",
        }
    }

    /// `anonymous`, `test` or `customer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Test => "test",
            Self::Customer => "customer",
        }
    }
}

impl fmt::Display for CustomerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `anonymous`, in any case.
pub fn is_anonymous(id: &str) -> bool {
    id.eq_ignore_ascii_case(ANONYMOUS)
}

/// The test ID `c0` or `C0` (also a customer ID).
pub fn is_test(id: &str) -> bool {
    id.eq_ignore_ascii_case("c0")
}

/// A Confluent customer ID: legacy `c\d{1,30}` (any case of `c`), or 15 or 18 ASCII letters
/// and digits.
pub fn is_customer(id: &str) -> bool {
    is_legacy(id) || ((id.len() == 15 || id.len() == 18) && is_alphanumeric(id))
}

/// Exactly 15 ASCII letters and digits: such IDs must be sent with their casing intact.
pub fn is_case_sensitive(id: &str) -> bool {
    id.len() == 15 && is_alphanumeric(id)
}

/// Anonymous, or a customer ID.
pub fn is_valid(id: &str) -> bool {
    is_anonymous(id) || is_customer(id)
}

fn is_legacy(id: &str) -> bool {
    match id.as_bytes().split_first() {
        Some((c, digits)) => {
            c.eq_ignore_ascii_case(&b'c')
                && (1..=30).contains(&digits.len())
                && digits.iter().all(u8::is_ascii_digit)
        }
        None => false,
    }
}

fn is_alphanumeric(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests;
