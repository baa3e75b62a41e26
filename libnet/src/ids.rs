//! Identifiers of the CNM objects: 64 hex digits, as Docker's.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new random id.
            pub fn random() -> Self {
                Self(random_hex_id())
            }
            /// Wrap an id read from the store or a request.
            pub fn from_string(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            /// The whole id, as stored and sent to drivers.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The first 12 hex digits, as Docker shows ids (of an id that is not hex, the
            /// first 12 characters).
            pub fn short(&self) -> &str {
                prefix(&self.0, 12)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// The id of a network.
    NetworkId
);
id_type!(
    /// The id of an endpoint.
    EndpointId
);
id_type!(
    /// The id of a sandbox.
    SandboxId
);

/// The first `n` characters of `s` (all of it if shorter), cut at a character boundary.
pub fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(at, _)| &s[..at])
}

/// Whether `s` is an id as Docker makes them: 64 lowercase hex digits.
pub fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// For `#[serde(deserialize_with = "...")]` on the id fields of the driver protocol's requests:
/// an id that is not 64 lowercase hex digits is refused where it enters, with what it was, before
/// a driver uses it (as a link's name, a key).
pub fn deserialize_hex_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if is_hex_id(&s) {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(format!("{s:?} is not an id (64 lowercase hex digits)")))
    }
}

/// 32 random bytes as 64 lowercase hex digits.
pub fn random_hex_id() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_distinct() {
        let a = NetworkId::random();
        let b = NetworkId::random();
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(a.short().len(), 12);
        assert!(is_hex_id(a.as_str()));
    }

    #[test]
    fn ids_that_are_not_hex_are_told_apart_and_never_cut_inside_a_character() {
        assert!(!is_hex_id(&"A".repeat(64)));
        assert!(!is_hex_id(&"a".repeat(63)));
        assert!(!is_hex_id(&format!("{}é", "a".repeat(62))));
        let odd = EndpointId::from_string("ééééééééééééé");
        assert_eq!(odd.short(), "éééééééééééé");
        assert_eq!(prefix("abc", 12), "abc");
    }
}
