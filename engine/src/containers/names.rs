//! Names for containers created without one, in Docker's `adjective_noun` style.

const ADJECTIVES: &[&str] = &[
    "amazing", "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nimble",
    "quiet", "quirky", "sharp", "silly", "sleepy", "stoic", "swift", "tender", "vibrant", "wise", "witty", "zen",
];
const NOUNS: &[&str] = &[
    "babbage", "curie", "darwin", "einstein", "euler", "fermat", "galileo", "hopper", "hypatia", "kepler", "knuth",
    "lamport", "lovelace", "newton", "noether", "pascal", "ritchie", "shannon", "tesla", "thompson", "turing",
    "wozniak",
];

/// A fresh `adjective_noun` name that `taken` says is free; a numeric suffix once they run out.
pub fn generate(taken: impl Fn(&str) -> bool) -> String {
    for attempt in 0..1000u32 {
        let a = ADJECTIVES[rand::random_range(0..ADJECTIVES.len())];
        let n = NOUNS[rand::random_range(0..NOUNS.len())];
        let name = if attempt < 10 { format!("{a}_{n}") } else { format!("{a}_{n}{}", attempt) };
        if !taken(&name) {
            return name;
        }
    }
    format!("weft_{}", &libnet::ids::random_hex_id()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_avoid_taken_ones_and_are_valid() {
        let first = generate(|_| false);
        assert!(first.contains('_'));
        let second = generate(|n| n == first || !n.chars().last().is_some_and(|c| c.is_ascii_digit()));
        assert_ne!(first, second);
    }
}
