// SPDX-License-Identifier: MIT
// The devnet's USDC: a plain ERC-20 with USDC's 6 decimals. Only for the dev chain.
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Devnet USD Coin
/// @notice Behaves like USDC for transfers and approvals (6 decimals, returns bool); the
/// deployer may mint, which is how the devnet funds its accounts and serves a faucet.
contract DevUSDC is ERC20 {
    address public immutable minter;

    /// Only the deployer may mint.
    error NotMinter(address caller);

    constructor() ERC20("Devnet USD Coin", "USDC") {
        minter = msg.sender;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
