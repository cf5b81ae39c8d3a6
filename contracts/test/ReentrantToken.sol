// SPDX-License-Identifier: MIT
// Test-only: a hostile ERC-20 that calls back into the HTLC from inside its own
// transfers: during the HTLC's transferFrom (a nested `lock`, which would inflate the
// balance delta) or during a payout (a second claim or refund of the same lock). Inner
// failures are caught and recorded, so the test sees the outer call complete once.
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

interface IHTLCForToken {
    function lock(address, bytes32, uint256, address, uint256, bytes32)
        external
        payable
        returns (bytes32);
    function claim(bytes32 id, bytes32 preimage) external;
    function refund(bytes32 id) external;
}

contract ReentrantToken is ERC20 {
    uint8 public constant MODE_OFF = 0;
    uint8 public constant MODE_LOCK = 1;
    uint8 public constant MODE_CLAIM = 2;
    uint8 public constant MODE_REFUND = 3;

    IHTLCForToken public immutable htlc;
    uint8 public mode;
    bytes32 public targetId;
    bytes32 public preimage;
    bytes32 public nestedHashlock;
    uint256 public reentrySucceeded;
    uint256 public reentryFailed;
    bytes public lastRevert;

    constructor(IHTLCForToken htlc_) ERC20("Hostile Token", "EVIL") {
        htlc = htlc_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(uint8 mode_, bytes32 id, bytes32 preimage_, bytes32 nestedHashlock_) external {
        mode = mode_;
        targetId = id;
        preimage = preimage_;
        nestedHashlock = nestedHashlock_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (mode == MODE_LOCK && to == address(htlc)) {
            _reenter(abi.encodeCall(
                IHTLCForToken.lock,
                (from, nestedHashlock, block.timestamp + 1 days, address(this), 1, bytes32(0))
            ));
        } else if (mode == MODE_CLAIM && from == address(htlc)) {
            _reenter(abi.encodeCall(IHTLCForToken.claim, (targetId, preimage)));
        } else if (mode == MODE_REFUND && from == address(htlc)) {
            _reenter(abi.encodeCall(IHTLCForToken.refund, (targetId)));
        }
    }

    function _reenter(bytes memory call) private {
        (bool ok, bytes memory reason) = address(htlc).call(call);
        if (ok) {
            reentrySucceeded += 1;
        } else {
            reentryFailed += 1;
            lastRevert = reason;
        }
    }
}
