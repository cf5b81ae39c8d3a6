"""The chain watcher: follows each quote chain's HTLC events from a persisted checkpoint
and hands what is final to `Settlement` (docs/settlement.md, "The chain watcher").

* `config`: its settings (`OTC_WATCHER_*`);
* `follower`: one chain's checkpoint, finality, re-org detection and rewind;
* `effects`: what a final event means for an order, as calls into `Settlement`;
* `watcher`: the lease per chain, the poll loop, and every chain of the bridge.
"""
