// SPDX-License-Identifier: MIT
// The quote leg's hashed-timelock contract: the public interface of
// shared/specs/htlc-contract.md, kept exactly (plus the read-only `lockIdOf`).
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Hashed timelock for ETH and ERC-20 tokens
/// @notice A sender locks funds for a receiver under sha256(preimage) == hashlock. Anyone
/// may claim with the preimage strictly before `timelock` (the receiver is paid); anyone
/// may refund at or after `timelock` (the sender is paid). Each lock pays out once, and a
/// hashlock backs one lock ever, so a revealed preimage can never unlock a second lock.
contract HTLC is ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint8 public constant STATE_NONE = 0;
    uint8 public constant STATE_LOCKED = 1;
    uint8 public constant STATE_CLAIMED = 2;
    uint8 public constant STATE_REFUNDED = 3;

    struct Lock {
        address sender;
        uint8 state;
        address receiver;
        address token;
        uint256 amount;
        bytes32 hashlock;
        uint256 timelock;
        bytes32 orderRef;
    }

    mapping(bytes32 id => Lock) private _locks;
    mapping(bytes32 hashlock => bytes32 id) private _lockIdOf;

    event Locked(
        bytes32 indexed id,
        address indexed sender,
        address indexed receiver,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint256 timelock,
        bytes32 orderRef
    );
    event Claimed(bytes32 indexed id, bytes32 preimage);
    event Refunded(bytes32 indexed id);

    /// The receiver is the zero address (the funds could never be paid out to anyone).
    error InvalidReceiver();
    /// An ETH lock (token == 0) with amount 0.
    error ZeroAmount();
    /// An ETH lock whose msg.value is not its amount.
    error EthValueMismatch(uint256 value, uint256 amount);
    /// An ERC-20 lock that also sent ETH (the ETH would be stuck).
    error EthSentWithToken(uint256 value);
    /// The token address holds no contract code.
    error TokenNotContract(address token);
    /// The ERC-20 transfer left the contract's balance unchanged (or lower).
    error NothingReceived(address token);
    /// The timelock is not strictly after the current block's timestamp.
    error TimelockNotInFuture(uint256 timelock, uint256 blockTimestamp);
    /// The hashlock already backs a lock (open, claimed or refunded).
    error HashlockAlreadyUsed(bytes32 hashlock, bytes32 id);
    /// No lock has this id.
    error LockNotFound(bytes32 id);
    /// The lock was already claimed or refunded.
    error LockNotOpen(bytes32 id, uint8 state);
    /// sha256(preimage) is not the lock's hashlock.
    error WrongPreimage(bytes32 id);
    /// A claim at or after the timelock.
    error TimelockExpired(bytes32 id, uint256 timelock, uint256 blockTimestamp);
    /// A refund before the timelock.
    error TimelockNotExpired(bytes32 id, uint256 timelock, uint256 blockTimestamp);
    /// The ETH payment to `to` failed (a receiver contract that refuses ETH).
    error EthTransferFailed(address to, uint256 amount);

    /// @notice Lock `amount` of ETH (token == 0, msg.value == amount) or of an ERC-20
    /// (msg.value == 0; the amount recorded is what the contract actually received).
    function lock(
        address receiver,
        bytes32 hashlock,
        uint256 timelock,
        address token,
        uint256 amount,
        bytes32 orderRef
    ) external payable nonReentrant returns (bytes32 id) {
        if (receiver == address(0)) revert InvalidReceiver();
        if (timelock <= block.timestamp) revert TimelockNotInFuture(timelock, block.timestamp);
        bytes32 used = _lockIdOf[hashlock];
        if (used != bytes32(0)) revert HashlockAlreadyUsed(hashlock, used);

        uint256 received;
        if (token == address(0)) {
            if (amount == 0) revert ZeroAmount();
            if (msg.value != amount) revert EthValueMismatch(msg.value, amount);
            received = amount;
        } else {
            if (msg.value != 0) revert EthSentWithToken(msg.value);
            received = _pull(IERC20(token), amount);
        }

        id = keccak256(abi.encode(block.chainid, address(this), hashlock));
        _lockIdOf[hashlock] = id;
        _locks[id] = Lock({
            sender: msg.sender,
            state: STATE_LOCKED,
            receiver: receiver,
            token: token,
            amount: received,
            hashlock: hashlock,
            timelock: timelock,
            orderRef: orderRef
        });
        emit Locked(id, msg.sender, receiver, token, received, hashlock, timelock, orderRef);
    }

    /// @notice Pay the receiver; anyone may call with the preimage before the timelock.
    function claim(bytes32 id, bytes32 preimage) external nonReentrant {
        Lock storage entry = _open(id);
        if (sha256(abi.encodePacked(preimage)) != entry.hashlock) revert WrongPreimage(id);
        if (block.timestamp >= entry.timelock) {
            revert TimelockExpired(id, entry.timelock, block.timestamp);
        }
        entry.state = STATE_CLAIMED; // before paying: a re-entrant call finds it closed
        emit Claimed(id, preimage);
        _pay(entry.token, entry.receiver, entry.amount);
    }

    /// @notice Pay the sender back; anyone may call at or after the timelock.
    function refund(bytes32 id) external nonReentrant {
        Lock storage entry = _open(id);
        if (block.timestamp < entry.timelock) {
            revert TimelockNotExpired(id, entry.timelock, block.timestamp);
        }
        entry.state = STATE_REFUNDED;
        emit Refunded(id);
        _pay(entry.token, entry.sender, entry.amount);
    }

    /// @notice A lock's terms and state (0 none, 1 locked, 2 claimed, 3 refunded).
    function getLock(bytes32 id)
        external
        view
        returns (
            address sender,
            address receiver,
            address token,
            uint256 amount,
            bytes32 hashlock,
            uint256 timelock,
            bytes32 orderRef,
            uint8 state
        )
    {
        Lock storage entry = _locks[id];
        return (
            entry.sender,
            entry.receiver,
            entry.token,
            entry.amount,
            entry.hashlock,
            entry.timelock,
            entry.orderRef,
            entry.state
        );
    }

    /// @notice The id of the lock that used `hashlock`, or zero if none ever did.
    function lockIdOf(bytes32 hashlock) external view returns (bytes32) {
        return _lockIdOf[hashlock];
    }

    function _open(bytes32 id) private view returns (Lock storage entry) {
        entry = _locks[id];
        if (entry.state == STATE_NONE) revert LockNotFound(id);
        if (entry.state != STATE_LOCKED) revert LockNotOpen(id, entry.state);
    }

    /// Pulls `amount` and returns what actually arrived: a fee-on-transfer token delivers
    /// less than it was asked for, and the lock must record only what it can pay out.
    function _pull(IERC20 token, uint256 amount) private returns (uint256 received) {
        if (address(token).code.length == 0) revert TokenNotContract(address(token));
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 after_ = token.balanceOf(address(this));
        if (after_ <= before) revert NothingReceived(address(token));
        received = after_ - before;
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert EthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
