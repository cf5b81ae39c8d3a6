"""The devnet's EVM chain: anvil from node_modules (`process.AnvilProcess`), the HTLC and
devnet USDC deployed from the committed artifacts with every account funded and the
addresses in `chain.json` (`deploy`), both together as `harness.Devchain`, and the
JSON-RPC test controls (`control.ChainControl`).

Nothing is re-exported here on purpose: the devnode imports `control` (plain httpx) and
must not pay for importing web3 at every start.
"""
