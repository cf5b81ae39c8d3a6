"""The bridge's settings for the dev chain, under the production names of docs/chains.md
(`OTC_EVM_*` shared by both EVM pairs, `OTC_RTC_USDC_*` for the token), so `make run`
configures the bridge exactly as an operator would."""

from __future__ import annotations

from otc_bridge.devnet.devchain.deploy import ChainInfo


def bridge_chain_environment(info: ChainInfo, rpc_url: str) -> dict[str, str]:
    return {
        "OTC_EVM_RPC_URL": rpc_url,
        "OTC_EVM_PUBLIC_RPC_URL": info.rpc_url or rpc_url,
        "OTC_EVM_CHAIN_ID": str(info.chain_id),
        "OTC_EVM_HTLC_CONTRACT": info.htlc_contract,
        "OTC_EVM_FINALITY_CONFIRMATIONS": str(info.finality_confirmations),
        "OTC_EVM_START_BLOCK": str(info.deployed_at_block),
        "OTC_RTC_USDC_TOKEN_ADDRESS": info.usdc_token,
        "OTC_RTC_USDC_DECIMALS": str(info.usdc_decimals),
    }
