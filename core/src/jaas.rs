//! The `sasl.jaas.config` grammar of Kafka's Java clients: exactly one login module,
//!
//! ```text
//! <class> <flag> [<name>=<value>]... ;
//! ```
//!
//! as Kafka reads it (a `java.io.StreamTokenizer`): words of letters, digits, `.`, `-`, `_`
//! and `$` (and any non-ASCII character); values either words or quoted with `"` or `'`,
//! where a backslash escapes (`\n`, `\t`, `\r`, `\b`, `\f`, `\a`, `\v`, octal `\NNN`, any
//! other character stands for itself); `//` and `/* */` comments; the flag is one of
//! `required`, `requisite`, `sufficient`, `optional` in any case. Kafka insists on the final
//! `;` and so does this parser: a config both accept means the same to both.
//!
//! The text usually holds a password. Nothing here keeps or prints it: errors carry a byte
//! offset and a cause, never the text.
//!
//! ```
//! use support_metrics_core::jaas;
//!
//! let text = r#"org.apache.kafka.common.security.scram.ScramLoginModule required
//!     username="alice" password="p\"w";"#;
//! let module = jaas::parse(text).unwrap();
//! assert!(module.class().ends_with(".ScramLoginModule"));
//! let password = module.option("password").unwrap();
//! assert!(password.chars().eq("p\"w".chars()));
//! ```

use core::fmt;

/// A parsed login module; its options are read on demand from the original text.
#[derive(Clone, Copy, Debug)]
pub struct LoginModule<'a> {
    class: &'a str,
    flag: Flag,
    /// The text between the flag and the final `;`: a valid option list.
    options: &'a str,
}

/// A login module's control flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `required`
    Required,
    /// `requisite`
    Requisite,
    /// `sufficient`
    Sufficient,
    /// `optional`
    Optional,
}

/// One option's value, as written: unescape it with [`Value::chars`].
#[derive(Clone, Copy, Debug)]
pub struct Value<'a> {
    /// Without the quotes.
    raw: &'a str,
    quoted: bool,
}

/// Why a `sasl.jaas.config` text was refused, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JaasError {
    /// Byte offset into the text.
    pub at: usize,
    /// What was wrong there.
    pub kind: ErrorKind,
}

/// The causes of a [`JaasError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing but blanks and comments.
    Empty,
    /// The text does not start with a class name.
    Class,
    /// No valid control flag after the class name.
    Flag,
    /// Something other than an option name or `;`.
    Name,
    /// An option name without `=`.
    Equals,
    /// `=` without a value.
    Value,
    /// A quoted value without its closing quote (on the same line).
    Quote,
    /// A `/*` comment without `*/`.
    Comment,
    /// The text ends before the final `;`.
    Semicolon,
    /// A second login module: a client takes exactly one.
    SecondModule,
    /// Something other than a login module after the `;`.
    Trailing,
}

impl fmt::Display for JaasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Empty => "no login module",
            ErrorKind::Class => "expected the login module's class name",
            ErrorKind::Flag => {
                "expected a control flag (required, requisite, sufficient or optional)"
            }
            ErrorKind::Name => "expected an option name or the final `;`",
            ErrorKind::Equals => "expected `=` after the option name",
            ErrorKind::Value => "expected a value after `=` (a word or a quoted text)",
            ErrorKind::Quote => "a quoted value is not closed on its line",
            ErrorKind::Comment => "a `/*` comment is not closed",
            ErrorKind::Semicolon => "missing the final `;`",
            ErrorKind::SecondModule => "more than one login module (a client takes exactly one)",
            ErrorKind::Trailing => "unexpected text after the final `;`",
        };
        write!(f, "at byte {}: {what}", self.at)
    }
}

/// Parses a `sasl.jaas.config` value.
pub fn parse(text: &str) -> Result<LoginModule<'_>, JaasError> {
    let mut lexer = Lexer { text, pos: 0 };
    let class = match lexer.next()? {
        (_, Token::End) => return Err(lexer.error_at(0, ErrorKind::Empty)),
        (_, Token::Word(w)) => w,
        (at, _) => return Err(lexer.error_at(at, ErrorKind::Class)),
    };
    let flag = match lexer.next()? {
        (_, Token::Word(w)) if w.eq_ignore_ascii_case("required") => Flag::Required,
        (_, Token::Word(w)) if w.eq_ignore_ascii_case("requisite") => Flag::Requisite,
        (_, Token::Word(w)) if w.eq_ignore_ascii_case("sufficient") => Flag::Sufficient,
        (_, Token::Word(w)) if w.eq_ignore_ascii_case("optional") => Flag::Optional,
        (at, _) => return Err(lexer.error_at(at, ErrorKind::Flag)),
    };
    let start = lexer.pos;
    let end = loop {
        match lexer.next()? {
            (at, Token::Char(b';')) => break at,
            (at, Token::End) => return Err(lexer.error_at(at, ErrorKind::Semicolon)),
            (_, Token::Word(_)) => {}
            (at, _) => return Err(lexer.error_at(at, ErrorKind::Name)),
        }
        match lexer.next()? {
            (_, Token::Char(b'=')) => {}
            (at, _) => return Err(lexer.error_at(at, ErrorKind::Equals)),
        }
        match lexer.next()? {
            (_, Token::Word(_) | Token::Quoted(..)) => {}
            (at, _) => return Err(lexer.error_at(at, ErrorKind::Value)),
        }
    };
    match lexer.next()? {
        (_, Token::End) => {}
        (at, Token::Word(_)) => return Err(lexer.error_at(at, ErrorKind::SecondModule)),
        (at, _) => return Err(lexer.error_at(at, ErrorKind::Trailing)),
    }
    Ok(LoginModule {
        class,
        flag,
        options: &text[start..end],
    })
}

impl<'a> LoginModule<'a> {
    /// The login module's class, e.g. `org.apache.kafka.common.security.plain.PlainLoginModule`.
    pub fn class(&self) -> &'a str {
        self.class
    }

    /// Its control flag.
    pub fn flag(&self) -> Flag {
        self.flag
    }

    /// The options in order, names as written.
    pub fn options(&self) -> Options<'a> {
        Options {
            lexer: Lexer {
                text: self.options,
                pos: 0,
            },
        }
    }

    /// The value of option `name` (the last one when repeated, as in Kafka).
    pub fn option(&self, name: &str) -> Option<Value<'a>> {
        self.options()
            .filter(|(n, _)| *n == name)
            .last()
            .map(|(_, v)| v)
    }
}

/// The options of a [`LoginModule`].
#[derive(Clone, Debug)]
pub struct Options<'a> {
    lexer: Lexer<'a>,
}

impl<'a> Iterator for Options<'a> {
    type Item = (&'a str, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        // The text was checked by `parse`: name, `=`, value, repeated.
        let Ok((_, Token::Word(name))) = self.lexer.next() else {
            return None;
        };
        let _equals = self.lexer.next();
        let value = match self.lexer.next() {
            Ok((_, Token::Word(raw))) => Value { raw, quoted: false },
            Ok((_, Token::Quoted(raw))) => Value { raw, quoted: true },
            _ => return None,
        };
        Some((name, value))
    }
}

impl<'a> Value<'a> {
    /// The value's characters, escapes resolved.
    pub fn chars(&self) -> Unescape<'a> {
        Unescape {
            chars: self.raw.chars(),
            quoted: self.quoted,
        }
    }

    /// Whether the value has no characters (`""`).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// The characters of a [`Value`].
#[derive(Clone, Debug)]
pub struct Unescape<'a> {
    chars: core::str::Chars<'a>,
    quoted: bool,
}

impl Iterator for Unescape<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c != '\\' || !self.quoted {
            return Some(c);
        }
        // A quoted value never ends in a lone backslash: the lexer pairs each with its successor.
        let e = self.chars.next()?;
        Some(match e {
            'a' => '\x07',
            'b' => '\x08',
            'f' => '\x0c',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\x0b',
            '0'..='7' => {
                // Up to three octal digits, the first at most 3 for a third (Java's rule).
                let mut n = e as u32 - '0' as u32;
                let max = if e <= '3' { 2 } else { 1 };
                for _ in 0..max {
                    let mut ahead = self.chars.clone();
                    match ahead.next() {
                        Some(d @ '0'..='7') => {
                            n = n * 8 + (d as u32 - '0' as u32);
                            self.chars = ahead;
                        }
                        _ => break,
                    }
                }
                char::from_u32(n).unwrap_or('\u{fffd}')
            }
            other => other,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    /// Without its quotes, escapes unresolved.
    Quoted(&'a str),
    Char(u8),
    End,
}

#[derive(Clone, Debug)]
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

fn starts_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$') || b >= 0x80
}

fn in_word(b: u8) -> bool {
    starts_word(b) || b == b'.'
}

impl<'a> Lexer<'a> {
    fn error_at(&self, at: usize, kind: ErrorKind) -> JaasError {
        JaasError { at, kind }
    }

    /// The next token and its offset.
    fn next(&mut self) -> Result<(usize, Token<'a>), JaasError> {
        let bytes = self.text.as_bytes();
        // Blanks and comments.
        loop {
            while self.pos < bytes.len() && bytes[self.pos] <= b' ' {
                self.pos += 1;
            }
            let rest = &bytes[self.pos..];
            if rest.starts_with(b"//") {
                while self.pos < bytes.len() && !matches!(bytes[self.pos], b'\n' | b'\r') {
                    self.pos += 1;
                }
            } else if rest.starts_with(b"/*") {
                let body = &rest[2..];
                let close = body.windows(2).position(|w| w == b"*/").ok_or(JaasError {
                    at: self.pos,
                    kind: ErrorKind::Comment,
                })?;
                self.pos += 2 + close + 2;
            } else {
                break;
            }
        }
        let start = self.pos;
        let Some(&b) = bytes.get(start) else {
            return Ok((start, Token::End));
        };
        if starts_word(b) {
            while self.pos < bytes.len() && in_word(bytes[self.pos]) {
                self.pos += 1;
            }
            // Word bytes are ASCII or whole UTF-8 sequences (every byte >= 0x80 belongs), so
            // the boundaries are character boundaries.
            return Ok((start, Token::Word(&self.text[start..self.pos])));
        }
        if b == b'"' || b == b'\'' {
            let mut i = start + 1;
            while i < bytes.len() {
                match bytes[i] {
                    q if q == b => {
                        self.pos = i + 1;
                        return Ok((start, Token::Quoted(&self.text[start + 1..i])));
                    }
                    b'\n' | b'\r' => break,
                    b'\\' if i + 1 < bytes.len() && !matches!(bytes[i + 1], b'\n' | b'\r') => {
                        i += 2;
                        // Step over the rest of an escaped multi-byte character.
                        while i < bytes.len() && (bytes[i] & 0xc0) == 0x80 {
                            i += 1;
                        }
                    }
                    b'\\' => break,
                    _ => i += 1,
                }
            }
            return Err(JaasError {
                at: start,
                kind: ErrorKind::Quote,
            });
        }
        self.pos += 1;
        Ok((start, Token::Char(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn options(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .options()
            .map(|(n, v)| (n.into(), v.chars().collect()))
            .collect()
    }

    #[test]
    fn kafka_documentation_examples() {
        let plain = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";"#;
        let m = parse(plain).unwrap();
        assert_eq!(
            m.class(),
            "org.apache.kafka.common.security.plain.PlainLoginModule"
        );
        assert_eq!(m.flag(), Flag::Required);
        assert_eq!(
            options(plain),
            [
                ("username".into(), "alice".into()),
                ("password".into(), "alice-secret".into())
            ]
        );
        let krb = "com.sun.security.auth.module.Krb5LoginModule required\n    useKeyTab=true\n    storeKey=true\n    keyTab=\"/etc/security/keytabs/kafka_client.keytab\"\n    principal=\"kafka-client-1@EXAMPLE.COM\";";
        let m = parse(krb).unwrap();
        assert_eq!(m.class(), "com.sun.security.auth.module.Krb5LoginModule");
        let keytab: String = m.option("keyTab").unwrap().chars().collect();
        assert_eq!(keytab, "/etc/security/keytabs/kafka_client.keytab");
        let use_keytab: String = m.option("useKeyTab").unwrap().chars().collect();
        assert_eq!(use_keytab, "true");
    }

    #[test]
    fn quoting_escapes_comments_and_flags() {
        let text = "x.Module OPTIONAL /* a comment; with = signs */ a='single \"q\"' // to the end\n b=\"t\\tab\\\\ \\101\\7\\\"\" c=\"\" d=caf\u{e9}.1-x_$ ;";
        let m = parse(text).unwrap();
        assert_eq!(m.flag(), Flag::Optional);
        assert_eq!(
            options(text),
            [
                ("a".into(), "single \"q\"".into()),
                ("b".into(), "t\tab\\ A\x07\"".into()),
                ("c".into(), String::new()),
                ("d".into(), "caf\u{e9}.1-x_$".into()),
            ]
        );
        assert!(parse(text).unwrap().option("c").unwrap().is_empty());
        // The last of a repeated option wins.
        let m = parse("M required k=1 k=2;").unwrap();
        assert!(m.option("k").unwrap().chars().eq("2".chars()));
        assert!(m.option("missing").is_none());
        // No options at all.
        assert_eq!(parse("M sufficient;").unwrap().options().count(), 0);
    }

    #[test]
    fn errors_name_the_place_not_the_text() {
        let cases: &[(&str, usize, ErrorKind)] = &[
            ("", 0, ErrorKind::Empty),
            ("  /* only */ // comments", 0, ErrorKind::Empty),
            ("\"M\" required;", 0, ErrorKind::Class),
            ("M", 1, ErrorKind::Flag),
            ("M always;", 2, ErrorKind::Flag),
            ("M required username=\"a\"", 23, ErrorKind::Semicolon),
            ("M required username \"a\";", 20, ErrorKind::Equals),
            ("M required username=;", 20, ErrorKind::Value),
            ("M required password=\"secret;", 20, ErrorKind::Quote),
            ("M required password=\"sec\nret\";", 20, ErrorKind::Quote),
            ("M required password=\"secret\\", 20, ErrorKind::Quote),
            ("M required = x;", 11, ErrorKind::Name),
            ("M required /* x", 11, ErrorKind::Comment),
            ("M required; N required;", 12, ErrorKind::SecondModule),
            ("M required; ;", 12, ErrorKind::Trailing),
        ];
        for (text, at, kind) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!((e.at, e.kind), (*at, *kind), "{text:?}");
            let shown = std::format!("{e}");
            assert!(!shown.contains("secret"), "{shown}");
        }
    }
}
