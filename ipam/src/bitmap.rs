//! A sparse bitmap of allocated addresses: memory grows with the bits set, never with the pool size.
//!
//! Bits are grouped in 64-bit words kept in a hash map by word index, and a word is dropped as soon
//! as its last bit is cleared. Setting, clearing and testing a bit are O(1). Finding the next clear
//! bit is O(1) when the word at the start has room, and otherwise costs one lookup per *full* word
//! skipped: cheap while a pool has room, linear in the allocated addresses only when a pool is
//! nearly full and the free bits are far from where the search starts.

use std::collections::HashMap;

/// Bits per word.
const WORD_BITS: u32 = 64;

/// A set of `u128` bit positions (offsets of addresses within a pool).
#[derive(Debug, Default, Clone)]
pub(crate) struct SparseBitmap {
    words: HashMap<u128, u64>,
    ones: u128,
}

fn split(bit: u128) -> (u128, u32) {
    (bit >> 6, (bit & u128::from(WORD_BITS - 1)) as u32)
}

impl SparseBitmap {
    /// An empty bitmap; allocates nothing until a bit is set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `bit` is set.
    pub fn contains(&self, bit: u128) -> bool {
        let (word, shift) = split(bit);
        self.words.get(&word).is_some_and(|w| w & (1u64 << shift) != 0)
    }

    /// Sets `bit`; returns false if it was already set.
    pub fn insert(&mut self, bit: u128) -> bool {
        let (word, shift) = split(bit);
        let w = self.words.entry(word).or_insert(0);
        let mask = 1u64 << shift;
        if *w & mask != 0 {
            return false;
        }
        *w |= mask;
        self.ones += 1;
        true
    }

    /// Clears `bit`; returns false if it was not set.
    pub fn remove(&mut self, bit: u128) -> bool {
        let (word, shift) = split(bit);
        let Some(w) = self.words.get_mut(&word) else { return false };
        let mask = 1u64 << shift;
        if *w & mask == 0 {
            return false;
        }
        *w &= !mask;
        if *w == 0 {
            self.words.remove(&word);
        }
        self.ones -= 1;
        true
    }

    /// How many bits are set.
    #[cfg(test)]
    pub fn len(&self) -> u128 {
        self.ones
    }

    /// The lowest clear bit in `from..=to`, or `None` if every bit there is set (or `from > to`).
    pub fn first_clear_in(&self, from: u128, to: u128) -> Option<u128> {
        let mut pos = from;
        while pos <= to {
            let (word, shift) = split(pos);
            let bits = self.words.get(&word).copied().unwrap_or(0);
            let clear_from_here = !bits >> shift;
            if clear_from_here != 0 {
                // pos + (< 64) stays inside this word, so it cannot overflow.
                let found = pos + u128::from(clear_from_here.trailing_zeros());
                return (found <= to).then_some(found);
            }
            // The next word starts past u128::MAX only for the very last word: nothing beyond it.
            pos = (word + 1).checked_mul(u128::from(WORD_BITS))?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_and_count() {
        let mut b = SparseBitmap::new();
        assert_eq!(b.len(), 0);
        assert!(b.insert(5));
        assert!(!b.insert(5));
        assert!(b.contains(5));
        assert!(!b.contains(4));
        assert_eq!(b.len(), 1);
        assert!(b.remove(5));
        assert!(!b.remove(5));
        assert!(!b.remove(1_000_000));
        assert_eq!(b.len(), 0);
        assert!(b.words.is_empty(), "an emptied word is dropped");
    }

    #[test]
    fn first_clear_skips_full_words_and_respects_bounds() {
        let mut b = SparseBitmap::new();
        for i in 0..130 {
            b.insert(i);
        }
        assert_eq!(b.first_clear_in(0, 1000), Some(130));
        assert_eq!(b.first_clear_in(0, 129), None);
        assert_eq!(b.first_clear_in(0, 130), Some(130));
        assert_eq!(b.first_clear_in(200, 100), None);
        b.remove(64);
        assert_eq!(b.first_clear_in(3, 1000), Some(64));
        assert_eq!(b.first_clear_in(65, 1000), Some(130));
    }

    #[test]
    fn works_at_the_top_of_the_u128_range() {
        let mut b = SparseBitmap::new();
        assert_eq!(b.first_clear_in(u128::MAX, u128::MAX), Some(u128::MAX));
        b.insert(u128::MAX);
        b.insert(u128::MAX - 1);
        assert!(b.contains(u128::MAX));
        assert_eq!(b.first_clear_in(u128::MAX - 1, u128::MAX), None);
        assert_eq!(b.first_clear_in(u128::MAX - 5, u128::MAX), Some(u128::MAX - 5));
        for i in 0..64 {
            b.insert(u128::MAX - i);
        }
        assert_eq!(b.first_clear_in(u128::MAX - 63, u128::MAX), None);
    }

    #[test]
    fn memory_follows_the_bits_set_not_the_range() {
        let mut b = SparseBitmap::new();
        b.insert(1u128 << 100);
        b.insert(7);
        assert_eq!(b.words.len(), 2);
        assert_eq!(b.first_clear_in(1u128 << 100, u128::MAX), Some((1u128 << 100) + 1));
    }
}
