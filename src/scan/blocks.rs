//! The text classified 64 bytes at a time: bit masks of its quotes, backslashes and brackets,
//! which bytes are escaped and which lie inside strings, as simdjson's first stage finds them.
//! The splitter then visits only the bytes that matter (a quote, a bracket outside strings, a
//! backslash inside one) instead of every byte.

/// The bytes of one block that the splitter looks at, one bit each (bit `k` is byte `k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// `{` or `[`.
    pub open: u64,
    /// `}` or `]`.
    pub close: u64,
}

/// The masks of `block`, with SSE2 (part of every x86-64 processor).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    // SAFETY: SSE2 is in the x86-64 baseline; each load reads 16 bytes inside `block`.
    unsafe {
        let (quote, backslash) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
        // `[` and `]` are `{` and `}` with bit 0x20 clear: setting it folds each pair.
        let (fold, open, close) = (
            _mm_set1_epi8(0x20),
            _mm_set1_epi8(b'{' as i8),
            _mm_set1_epi8(b'}' as i8),
        );
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let folded = _mm_or_si128(v, fold);
            let bits = |x| u64::from(_mm_movemask_epi8(x) as u16) << (16 * k);
            m.quote |= bits(_mm_cmpeq_epi8(v, quote));
            m.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
            m.open |= bits(_mm_cmpeq_epi8(folded, open));
            m.close |= bits(_mm_cmpeq_epi8(folded, close));
        }
    }
    m
}

/// The masks of `block`, byte by byte (machines without SSE2: the arm64 Lambda; the tests
/// compare the two).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
pub fn masks_portable(block: &[u8; 64]) -> Masks {
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    // Without branches, which the compiler can turn into vector compares.
    for (k, &b) in block.iter().enumerate() {
        let folded = b | 0x20;
        m.quote |= u64::from(b == b'"') << k;
        m.backslash |= u64::from(b == b'\\') << k;
        m.open |= u64::from(folded == b'{') << k;
        m.close |= u64::from(folded == b'}') << k;
    }
    m
}

/// The masks of `block` on machines without SSE2.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn masks(block: &[u8; 64]) -> Masks {
    masks_portable(block)
}

/// The bytes escaped by a backslash before them (the byte after an odd run of backslashes).
/// `carry` says whether the block's first byte is escaped, and is set for the next block.
#[inline(always)]
pub fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslash = backslash & !*carry;
    let follows = (backslash << 1) | *carry;
    let odd_starts = backslash & !EVEN & !follows;
    let (even_sequences, overflow) = odd_starts.overflowing_add(backslash);
    *carry = u64::from(overflow);
    (EVEN ^ (even_sequences << 1)) & follows
}

/// Each bit the XOR of the bits at and below it: given the string-delimiting quotes, the bytes
/// from an opening quote up to (not including) its closing quote.
#[inline(always)]
pub fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Escaped bytes, byte by byte.
    fn escaped_slowly(text: &[u8]) -> Vec<bool> {
        let mut out = vec![false; text.len()];
        let mut escape = false;
        for (k, &b) in text.iter().enumerate() {
            out[k] = escape;
            escape = !escape && b == b'\\';
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn masks_and_escapes_agree_with_a_byte_by_byte_reading(
            text in proptest::collection::vec(
                prop_oneof![Just(b'\\'), Just(b'"'), Just(b'{'), Just(b']'), Just(b'['),
                    Just(b'}'), Just(b'a'), Just(b' '), Just(0xdb), Just(0x7b | 0x80)],
                0..300,
            )
        ) {
            let want = escaped_slowly(&text);
            let mut carry = 0;
            for (n, chunk) in text.chunks(64).enumerate() {
                let mut block = [b' '; 64];
                block[..chunk.len()].copy_from_slice(chunk);
                prop_assert_eq!(masks(&block), masks_portable(&block));
                let m = masks(&block);
                let got = escaped(m.backslash, &mut carry);
                for k in 0..chunk.len() {
                    prop_assert_eq!(got >> k & 1 == 1, want[64 * n + k], "byte {}", 64 * n + k);
                }
            }
        }
    }

    #[test]
    fn prefix_xor_marks_the_inside_of_strings() {
        let quotes = 0b1000_0100_0010;
        assert_eq!(prefix_xor(quotes), !0 << 11 | 0b0000_0011_1110);
    }
}
