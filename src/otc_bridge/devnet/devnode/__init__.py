"""The devnode: a local RustChain node faithful to `rustchain-node-api.md`, plus devnet extras."""
