"""The devnet's EVM chain: anvil from node_modules, the HTLC and devnet USDC deployed
from the committed artifacts, every account funded, addresses in `chain.json`."""

from otc_bridge.devnet.devchain.binary import AnvilNotFound, find_anvil
from otc_bridge.devnet.devchain.control import ChainControl, ChainRpcError, Head
from otc_bridge.devnet.devchain.deploy import ChainInfo, ensure_deployed
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.devchain.process import AnvilProcess

__all__ = [
    "AnvilNotFound",
    "AnvilProcess",
    "ChainControl",
    "ChainInfo",
    "ChainRpcError",
    "Devchain",
    "Head",
    "ensure_deployed",
    "find_anvil",
]
