// SPDX-License-Identifier: MIT
// Test-only: a receiver (or sender) contract that, when the HTLC pays it ETH, calls the
// HTLC again (claim or refund of the same lock) and records whether that call went
// through. It catches the inner failure so that the outer payout can complete and the
// test can see both: paid once, and the re-entrant call refused.
pragma solidity 0.8.37;

interface IHTLC {
    function lock(address, bytes32, uint256, address, uint256, bytes32)
        external
        payable
        returns (bytes32);
    function claim(bytes32 id, bytes32 preimage) external;
    function refund(bytes32 id) external;
}

contract ReentrantReceiver {
    uint8 public constant MODE_OFF = 0;
    uint8 public constant MODE_CLAIM = 1;
    uint8 public constant MODE_REFUND = 2;

    IHTLC public immutable htlc;
    uint8 public mode;
    bytes32 public targetId;
    bytes32 public preimage;
    uint256 public reentrySucceeded;
    uint256 public reentryFailed;
    bytes public lastRevert;

    constructor(IHTLC htlc_) {
        htlc = htlc_;
    }

    function arm(uint8 mode_, bytes32 id, bytes32 preimage_) external {
        mode = mode_;
        targetId = id;
        preimage = preimage_;
    }

    /// Lock ETH from this contract, so it can be the sender paid by a refund.
    function lockEth(address receiver, bytes32 hashlock, uint256 timelock)
        external
        payable
        returns (bytes32)
    {
        return htlc.lock{value: msg.value}(receiver, hashlock, timelock, address(0), msg.value, 0);
    }

    receive() external payable {
        if (mode == MODE_CLAIM) {
            try htlc.claim(targetId, preimage) {
                reentrySucceeded += 1;
            } catch (bytes memory reason) {
                reentryFailed += 1;
                lastRevert = reason;
            }
        } else if (mode == MODE_REFUND) {
            try htlc.refund(targetId) {
                reentrySucceeded += 1;
            } catch (bytes memory reason) {
                reentryFailed += 1;
                lastRevert = reason;
            }
        }
    }
}
