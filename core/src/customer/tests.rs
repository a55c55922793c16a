//! The reference implementation's customer-ID test vectors, every list.

use super::*;

const VALID_LEGACY: &[&str] = &[
    "C0",
    "c1",
    "C1",
    "c12",
    "C22",
    "c123",
    "C333",
    "c1234",
    "C4444",
    "C00000",
    "C12345",
    "C99999",
    "C123456789",
    "C123456789012345678901234567890",
    "c00000",
    "c12345",
    "c99999",
    "c123456789",
    "c123456789012345678901234567890",
];
const VALID_CASE_SENSITIVE: &[&str] = &[
    "5003001200D8cyJ",
    "abbcaabcaaDwcyJ",
    "abbcaabcaadwcyj",
    "abbcaAbcAadwcyj",
    "AGGQAAFLSSDWPYJ",
    "AGGQAAfLSSDWpYJ",
    "123456789012345",
    "c23456789012345",
    "C23456789012345",
];
const VALID_CASE_INSENSITIVE: &[&str] = &[
    "123456789012345123",
    "123456789012345avc",
    "5003001200D8cyJaaa",
    "5003001200D8cyJ123",
    "abbcaabcaadwcyjsss",
    "AGGQAAFLSSDWPYJTTT",
];
const INVALID: &[&str] = &[
    "0c000",
    "0000C",
    "",
    "c",
    "C",
    "Hello",
    "World",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "5003001200D8cy",
    "abbcaabcaaDwcyJa",
    "abbcaabcaadwc*j",
    "AGGQAAFLSSD^PYJ",
    "123456789$12345",
    "12345678901234512",
    "123456789012345avca",
    "5003001200D8cyJaaa88",
    "5003001200D8cyJ1@3",
    "abbcaabcaadwcyj!ss",
    "AGGQAAFLSSDWPYJ_TT",
];
const VALID_ANONYMOUS: &[&str] = &["anonymous", "ANONYMOUS", "anonyMOUS"];
const INVALID_ANONYMOUS: &[&str] = &["", "anon", "anonymou", "ANONYMOU"];

#[test]
fn legacy_ids_are_customers_not_case_sensitive() {
    for id in VALID_LEGACY {
        assert!(is_customer(id), "{id}");
        assert!(is_valid(id), "{id}");
        assert!(!is_case_sensitive(id), "{id}");
        assert!(!is_anonymous(id), "{id}");
        assert!(id.len() <= MAX_LEN);
    }
}

#[test]
fn fifteen_char_ids_are_case_sensitive_customers() {
    for id in VALID_CASE_SENSITIVE {
        assert!(is_customer(id), "{id}");
        assert!(is_case_sensitive(id), "{id}");
        assert_eq!(CustomerClass::of(id), Some(CustomerClass::Customer), "{id}");
    }
}

#[test]
fn eighteen_char_ids_are_case_insensitive_customers() {
    for id in VALID_CASE_INSENSITIVE {
        assert!(is_customer(id), "{id}");
        assert!(!is_case_sensitive(id), "{id}");
        assert_eq!(CustomerClass::of(id), Some(CustomerClass::Customer), "{id}");
    }
}

#[test]
fn invalid_ids_are_rejected() {
    for id in INVALID {
        assert!(!is_customer(id), "{id}");
        assert!(!is_valid(id), "{id}");
        assert_eq!(CustomerClass::of(id), None, "{id}");
    }
}

#[test]
fn anonymous_in_any_case() {
    for id in VALID_ANONYMOUS {
        assert!(is_anonymous(id), "{id}");
        assert!(is_valid(id), "{id}");
        assert!(!is_customer(id), "{id}");
        assert_eq!(CustomerClass::of(id), Some(CustomerClass::Anonymous));
    }
    for id in INVALID_ANONYMOUS {
        assert!(!is_anonymous(id), "{id}");
        assert!(!is_valid(id), "{id}");
    }
}

#[test]
fn test_id_is_a_customer_with_test_endpoints() {
    for id in ["c0", "C0"] {
        assert!(is_test(id) && is_customer(id));
        assert_eq!(CustomerClass::of(id), Some(CustomerClass::Test));
        assert_eq!(CustomerClass::Test.endpoint_suffix(), "test");
    }
    assert!(!is_test("c00"));
    assert_eq!(CustomerClass::of("c00"), Some(CustomerClass::Customer));
    assert_eq!(CustomerClass::Anonymous.endpoint_suffix(), "anon");
    assert_eq!(CustomerClass::Customer.endpoint_suffix(), "submit");
}

/// Non-ASCII look-alikes never pass: Java's character classes are ASCII-only.
#[test]
fn non_ascii_is_never_valid() {
    for id in ["c١٢", "ｃ12", "anonymouſ", "12345678901234é", "c0\u{0}"] {
        assert_eq!(CustomerClass::of(id), None, "{id:?}");
    }
}
