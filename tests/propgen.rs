//! Generates properties files that stress `Properties.load`: every separator, comment marker,
//! escape, line end and continuation in random combinations, with rare malformed `\u`.

use crate::{below, Rng};

const PIECES: &[&[u8]] = &[
    b"a",
    b"b",
    b"key",
    b"x.y",
    b"0",
    b"9",
    b"=",
    b"=",
    b":",
    b" ",
    b" ",
    b"\t",
    b"\x0c",
    b"#",
    b"!",
    b"\\",
    b"\\\\",
    b"\n",
    b"\n",
    b"\r",
    b"\r\n",
    b"\\\n",
    b"\\\r\n",
    b"\\\r",
    b"\\t",
    b"\\n",
    b"\\r",
    b"\\f",
    b"\\=",
    b"\\:",
    b"\\ ",
    b"\\#",
    b"\\q",
    b"\xe9",
    b"\xff",
    b"\x80",
    b"\x00",
    b"\\u0041",
    b"\\u00e9",
    b"\\u20AC",
    b"\\uD83D\\uDE00",
    b"\\uD800",
    b"\\uDC00",
    b"\\u000a",
    b"\\u005c",
    b"u",
    b"\\\\u0041",
];

const RARE: &[&[u8]] = &[b"\\u", b"\\u1", b"\\u12", b"\\u123", b"\\uXYZW", b"\\u12G4"];

/// One random file of up to `max_pieces` pieces.
pub fn properties_file(rng: &mut Rng, max_pieces: usize) -> Vec<u8> {
    let pieces = below(rng, max_pieces + 1);
    let mut out = Vec::new();
    for _ in 0..pieces {
        let piece = if below(rng, 300) == 0 {
            RARE[below(rng, RARE.len())]
        } else {
            PIECES[below(rng, PIECES.len())]
        };
        out.extend_from_slice(piece);
    }
    out
}
