"""Deploy the dev chain's contracts from the committed artifacts and fund its accounts,
and remember the addresses in `chain.json`.

`ensure_deployed` reuses an earlier deployment when `chain.json` names contracts that
still have code on this chain (a restarted `make run` with its chain state kept), and
deploys afresh otherwise. Transactions are sent together and then awaited, so the
whole setup costs a block or two even under interval mining.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress, HexStr
from eth_utils.address import to_checksum_address
from web3 import Web3

from otc_bridge.adapters.evm.compiled import DEV_USDC, HTLC, load_artifact
from otc_bridge.adapters.evm.rpc import connect

USDC_DECIMALS = 6
USDC_PER_ACCOUNT = 10_000_000 * 10**USDC_DECIMALS  # ten million devnet USDC each
DEVNET_FINALITY_CONFIRMATIONS = 2
RECEIPT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ChainInfo:
    """What the devnet's clients need to know about its chain."""

    chain_id: int
    rpc_url: str
    htlc_contract: str
    usdc_token: str
    usdc_decimals: int
    accounts: list[str]
    deployer: str
    deployed_at_block: int
    finality_confirmations: int = DEVNET_FINALITY_CONFIRMATIONS

    def write(self, path: Path) -> None:
        """Atomically (temp file + rename), so a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".chain.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(self), handle, indent=2)
                handle.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: Path) -> ChainInfo | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None


def ensure_deployed(
    rpc_url: str, info_path: Path, *, public_rpc_url: str | None = None
) -> ChainInfo:
    web3 = connect(rpc_url, timeout=30.0)
    known = ChainInfo.read(info_path)
    info = known if known is not None and _still_deployed(web3, known) else deploy(web3)
    info = ChainInfo(**{**asdict(info), "rpc_url": public_rpc_url or rpc_url})
    info.write(info_path)
    return info


def deploy(web3: Web3) -> ChainInfo:
    accounts = [to_checksum_address(a) for a in web3.eth.accounts]
    deployer = accounts[0]
    htlc_tx = _deploy_tx(web3, HTLC, deployer)
    usdc_tx = _deploy_tx(web3, DEV_USDC, deployer)
    htlc_receipt, usdc_receipt = (_receipt(web3, tx) for tx in (htlc_tx, usdc_tx))
    htlc = to_checksum_address(htlc_receipt["contractAddress"])
    usdc = to_checksum_address(usdc_receipt["contractAddress"])
    token = web3.eth.contract(address=usdc, abi=load_artifact(DEV_USDC).abi)
    mints = [
        token.functions.mint(account, USDC_PER_ACCOUNT).transact({"from": deployer})
        for account in accounts
    ]
    for tx in mints:
        _receipt(web3, tx)
    return ChainInfo(
        chain_id=int(web3.eth.chain_id),
        rpc_url="",
        htlc_contract=htlc,
        usdc_token=usdc,
        usdc_decimals=USDC_DECIMALS,
        accounts=[str(account) for account in accounts],
        deployer=deployer,
        deployed_at_block=int(htlc_receipt["blockNumber"]),
    )


def _deploy_tx(web3: Web3, name: str, deployer: ChecksumAddress) -> Any:
    artifact = load_artifact(name)
    factory = web3.eth.contract(abi=artifact.abi, bytecode=HexStr(artifact.bytecode))
    return factory.constructor().transact({"from": deployer})


def _receipt(web3: Web3, tx_hash: Any) -> Any:
    receipt = web3.eth.wait_for_transaction_receipt(
        tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS, poll_latency=0.05
    )
    if int(receipt["status"]) != 1:
        raise RuntimeError(f"dev chain setup transaction {tx_hash.hex()} reverted")
    return receipt


def _still_deployed(web3: Web3, info: ChainInfo) -> bool:
    if int(web3.eth.chain_id) != info.chain_id:
        return False
    for address in (info.htlc_contract, info.usdc_token):
        code = web3.eth.get_code(to_checksum_address(address))
        if len(code) == 0:
            return False
    return True
