// SPDX-License-Identifier: MIT
// Test-only: an ERC-20 that burns a fee on every transfer, so a recipient receives less
// than the amount named (the HTLC must record what actually arrived).
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract FeeOnTransferToken is ERC20 {
    uint256 public immutable feeBasisPoints;

    constructor(uint256 feeBasisPoints_) ERC20("Fee Token", "FEE") {
        feeBasisPoints = feeBasisPoints_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// Transfers (not mints or burns) lose `feeBasisPoints` of the amount, burned.
    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = (value * feeBasisPoints) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
