//! Loading a ruleset with one `nft -j -f -` run: the one place weft starts `nft`, since declaring
//! a table's chains and rules once is what `nft` is for (its elements then go over netlink).

use crate::osl::{OslError, Result};

/// What a failed load says it was doing.
const OP: &str = "load weft's nftables ruleset (nft -j -f -)";

/// `ruleset` (`nft -j` input) as JSON.
pub(super) fn to_json(ruleset: &nftables::schema::Nftables<'_>) -> Result<String> {
    serde_json::to_string(ruleset).map_err(|e| OslError::new(OP, None, e.to_string()))
}

/// Run `nft -j -f -` with `json` on its input, in the calling thread's network namespace (a child
/// process starts in its parent thread's namespace).
pub(super) fn load_json(json: &str) -> Result<()> {
    nftables::helper::apply_ruleset_raw(json, nftables::helper::DEFAULT_NFT, nftables::helper::DEFAULT_ARGS)
        .map(|_| ())
        .map_err(|e| match e {
            // All nft printed, whichever stream it chose (its JSON mode may answer on stdout).
            nftables::helper::NftablesError::NftFailed { stderr, stdout, .. } => {
                let said: Vec<&str> = [stderr.trim(), stdout.trim()].into_iter().filter(|t| !t.is_empty()).collect();
                let said = if said.is_empty() { "nft failed and printed nothing".to_string() } else { said.join("\n") };
                OslError::new(OP, None, said)
            }
            nftables::helper::NftablesError::NftExecution { inner, .. }
                if inner.kind() == std::io::ErrorKind::NotFound =>
            {
                OslError::new(OP, Some(2), "the nft program is missing: install it (Debian's package nftables)")
            }
            nftables::helper::NftablesError::NftExecution { inner, .. } => OslError::io(OP, inner),
            other => OslError::new(OP, None, other.to_string()),
        })
}
