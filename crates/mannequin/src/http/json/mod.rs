//! JSON in and out. Strings are written straight into a buffer, escaped
//! exactly as serde_json escapes them (the bytes are the same; a test compares
//! them), sixteen bytes at a time with SSE2 (eight elsewhere): a page of
//! models is mostly long prompts with nothing to escape, and serde_json looks
//! at each byte on its own, which made the list a third slower
//! (docs/performance.md). Request bodies are read as serde_json reads them,
//! refusing a key named twice.

use std::fmt;

mod writer;
pub use writer::{Unsupported, write};

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Appends `s` as a JSON string, quotes included.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_contents(out, s.as_bytes());
    out.push(b'"');
}

/// Appends `bytes` (UTF-8) escaped, without quotes: the runs between bytes
/// to escape are copied whole.
fn write_contents(out: &mut Vec<u8>, mut bytes: &[u8]) {
    loop {
        let at = first_to_escape(bytes);
        out.extend_from_slice(&bytes[..at]);
        let Some(&b) = bytes.get(at) else { return };
        escape(out, b);
        bytes = &bytes[at + 1..];
    }
}

/// Eight copies of the byte `b`.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

const ONES: u64 = splat(0x01);
const HIGHS: u64 = splat(0x80);

/// The high bit set in each byte of `w` that is zero; bits above the lowest
/// such byte may be set wrongly, the lowest is exact.
const fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The high bit set in each byte of `w` that JSON must escape: a control
/// character (below 0x20), `"` or `\`. The lowest set byte is exact.
const fn needs_escape(w: u64) -> u64 {
    let control = w.wrapping_sub(splat(0x20)) & !w & HIGHS;
    control | zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\\'))
}

/// The index of the first byte of `bytes` JSON must escape, or its length:
/// sixteen bytes at a time with SSE2 (part of every x86-64), eight at a time
/// elsewhere; shorter texts (and the tail) through [`first_to_escape_words`].
#[cfg(target_arch = "x86_64")]
fn first_to_escape(bytes: &[u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    if bytes.len() < 16 {
        return first_to_escape_words(bytes);
    }
    // SAFETY: SSE2 is part of x86-64; each load reads 16 bytes at `i`, and
    // `i + 16 <= bytes.len()` wherever one is made. This is one of the
    // service's two `unsafe` blocks: escaping in safe code (eight bytes at a
    // time) costs the model list 4% more instructions, serde_json's own
    // escaping 40% (docs/performance.md, 2026-12-07).
    #[allow(unsafe_code)]
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let control = _mm_set1_epi8(0x1f);
        // One bit for each of the 16 bytes at `i` that must be escaped.
        let found = |i: usize| {
            let v = _mm_loadu_si128(bytes.as_ptr().add(i).cast::<__m128i>());
            // A byte is a control character when it is at most 0x1f, unsigned.
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, control), v);
            let special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
            _mm_movemask_epi8(_mm_or_si128(low, special)) as u32
        };
        let mut i = 0;
        while i + 16 <= bytes.len() {
            let f = found(i);
            if f != 0 {
                return i + f.trailing_zeros() as usize;
            }
            i += 16;
        }
        if i == bytes.len() {
            return i;
        }
        // The last 16 bytes, overlapping bytes already found clean.
        let last = bytes.len() - 16;
        match found(last) {
            0 => bytes.len(),
            f => last + f.trailing_zeros() as usize,
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn first_to_escape(bytes: &[u8]) -> usize {
    first_to_escape_words(bytes)
}

/// [`first_to_escape`] eight bytes at a time.
fn first_to_escape_words(bytes: &[u8]) -> usize {
    let word = |i: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&bytes[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let mut i = 0;
    // Four words a round while nothing is found, then word by word to the
    // exact byte.
    while i + 32 <= bytes.len() {
        let found = needs_escape(word(i))
            | needs_escape(word(i + 8))
            | needs_escape(word(i + 16))
            | needs_escape(word(i + 24));
        if found != 0 {
            break;
        }
        i += 32;
    }
    while i + 8 <= bytes.len() {
        let found = needs_escape(word(i));
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    if i == bytes.len() {
        return i;
    }
    if bytes.len() >= 8 {
        // The last word, overlapping bytes already found clean.
        let last = bytes.len() - 8;
        let found = needs_escape(word(last));
        return if found == 0 {
            bytes.len()
        } else {
            last + (found.trailing_zeros() / 8) as usize
        };
    }
    bytes
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .unwrap_or(bytes.len())
}

/// serde_json's escape of one byte that needs it.
fn escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

/// Writes what is formatted into it as the contents of a JSON string.
pub struct Escaping<'a>(pub &'a mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_contents(self.0, s.as_bytes());
        Ok(())
    }
}

/// Parses JSON text as serde_json does, but refuses an object that names a
/// key twice (anywhere in the value): which of the two a reader keeps is not
/// said by JSON, so a request holding both is ambiguous.
pub fn parse_unique(text: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = de.deserialize_any(UniqueKeys)?;
    de.end()?;
    Ok(value)
}

/// Builds a `Value`, refusing duplicate keys.
struct UniqueKeys;

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(UniqueKeys)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(UniqueKeys)?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} appears twice")));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_key_named_twice_anywhere_is_refused_and_the_rest_parses_as_serde_json_does() {
        for text in [
            r#"{"count": 1, "count": 2}"#,
            r#"{"a": {"b": 1, "b": 1}}"#,
            r#"[{"x": null, "x": null}]"#,
        ] {
            let e = parse_unique(text.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("appears twice"), "{text}: {e}");
        }
        for text in [
            r#"{"preferences": "é \u00e9", "count": 3.0, "n": [1, -2, 1e3, true, null, {"a": {}}]}"#,
            "[]",
            "  7 ",
            r#"{"a": 1, "b": {"a": 2}}"#,
        ] {
            let ours = parse_unique(text.as_bytes()).unwrap();
            assert_eq!(ours, serde_json::from_str::<Value>(text).unwrap(), "{text}");
        }
        for bad in ["{", r#"{"a": 1} x"#, "", r#"{"a" 1}"#] {
            assert!(parse_unique(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    fn ours(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_byte_is_escaped_as_serde_json_escapes_it() {
        // Each character below 0x80 alone, at every offset within two
        // 16-byte blocks, with tails that end inside a block, on its end and
        // in an overlapping last block.
        for c in 0u8..0x80 {
            for pad in 0..34 {
                for tail in [0, 1, 9, 15, 16, 17] {
                    let s = format!("{}{}{}", "x".repeat(pad), c as char, "y".repeat(tail));
                    assert_eq!(
                        ours(&s),
                        serde_json::to_string(&s).unwrap(),
                        "{c:#x} at {pad}, {tail} after"
                    );
                }
            }
        }
        // Beyond ASCII, and DEL, pass through as they are.
        assert_eq!(ours("é\u{7f}\u{1f}\"\\"), "\"é\u{7f}\\u001f\\\"\\\\\"");
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in "(\\PC|[\\x00-\\x1f\"\\\\]){0,80}") {
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn blocks_and_words_find_the_same_byte(bytes in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), Just(0x1f), Just(0x20), 0x80..=0xffu8, any::<u8>()],
            0..70,
        )) {
            let expected = bytes
                .iter()
                .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
                .unwrap_or(bytes.len());
            prop_assert_eq!(first_to_escape(&bytes), expected);
            prop_assert_eq!(first_to_escape_words(&bytes), expected);
        }

        #[test]
        fn a_display_is_written_as_serde_json_collects_it(s in ".{0,40}") {
            let mut out = Vec::new();
            // `fmt::Arguments` serializes through `collect_str`.
            write(&mut out, &format_args!("{s}")).unwrap();
            prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
        }
    }
}
