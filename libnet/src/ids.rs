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
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The first 12 hex digits, as Docker shows ids.
            pub fn short(&self) -> &str {
                &self.0[..self.0.len().min(12)]
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
    }
}
