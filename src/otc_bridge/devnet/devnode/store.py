"""SQLite state of the devnode: the node's tables plus the faucet's minted supply.

One connection, used only from the event-loop thread. Every request runs inside
`BEGIN IMMEDIATE` … `COMMIT` (see `tx`), which serialises state changes the way the node's
write transactions do; an exception rolls the whole request back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS balances (
    miner_id TEXT PRIMARY KEY,
    amount_i64 INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    miner_id TEXT NOT NULL,
    delta_i64 INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_reason ON ledger(reason);
CREATE TABLE IF NOT EXISTS pending_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    from_miner TEXT NOT NULL,
    to_miner TEXT NOT NULL,
    amount_i64 INTEGER NOT NULL,
    reason TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at INTEGER NOT NULL,
    confirms_at INTEGER NOT NULL,
    voided_by TEXT,
    voided_reason TEXT,
    confirmed_at INTEGER,
    tx_hash TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS pending_tx_hash ON pending_ledger(tx_hash);
CREATE INDEX IF NOT EXISTS pending_status_id ON pending_ledger(status, id);
CREATE INDEX IF NOT EXISTS pending_status_due ON pending_ledger(status, confirms_at);
CREATE INDEX IF NOT EXISTS pending_from ON pending_ledger(from_miner, status, amount_i64);
CREATE INDEX IF NOT EXISTS pending_to ON pending_ledger(to_miner);
CREATE TABLE IF NOT EXISTS transfer_nonces (
    from_address TEXT NOT NULL,
    nonce TEXT NOT NULL,  -- a decimal string, as on the node (nonces may exceed i64)
    used_at INTEGER NOT NULL,
    PRIMARY KEY (from_address, nonce)
);
CREATE TABLE IF NOT EXISTS agent_jobs (
    job_id TEXT PRIMARY KEY,
    poster_wallet TEXT NOT NULL,
    worker_wallet TEXT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT DEFAULT 'other',
    reward_rtc REAL NOT NULL,
    reward_i64 INTEGER NOT NULL,
    escrow_i64 INTEGER NOT NULL,
    platform_fee_i64 INTEGER NOT NULL,
    status TEXT DEFAULT 'open',
    deliverable_url TEXT,
    deliverable_hash TEXT,
    result_summary TEXT,
    rejection_reason TEXT,
    created_at INTEGER NOT NULL,
    claimed_at INTEGER,
    delivered_at INTEGER,
    completed_at INTEGER,
    expires_at INTEGER NOT NULL,
    tags TEXT DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_poster_status ON agent_jobs(poster_wallet, status);
CREATE INDEX IF NOT EXISTS jobs_status_expiry ON agent_jobs(status, expires_at);
CREATE TABLE IF NOT EXISTS agent_reputation (
    wallet_id TEXT PRIMARY KEY,
    jobs_posted INTEGER DEFAULT 0,
    jobs_completed_as_poster INTEGER DEFAULT 0,
    jobs_completed_as_worker INTEGER DEFAULT 0,
    jobs_disputed INTEGER DEFAULT 0,
    jobs_expired INTEGER DEFAULT 0,
    total_rtc_paid REAL DEFAULT 0,
    total_rtc_earned REAL DEFAULT 0,
    avg_rating REAL DEFAULT 0,
    rating_count INTEGER DEFAULT 0,
    first_seen INTEGER,
    last_active INTEGER
);
CREATE TABLE IF NOT EXISTS agent_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    rater_wallet TEXT NOT NULL,
    ratee_wallet TEXT NOT NULL,
    role TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE(job_id, rater_wallet)
);
CREATE TABLE IF NOT EXISTS agent_job_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_wallet TEXT,
    details TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS job_log_job ON agent_job_log(job_id);
CREATE TABLE IF NOT EXISTS devnet_supply (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    minted_i64 INTEGER NOT NULL
);
INSERT OR IGNORE INTO devnet_supply (id, minted_i64) VALUES (1, 0);
"""
# The node's built-in wallets exist from the start (with balance 0).
SEED = (
    "INSERT OR IGNORE INTO balances (miner_id, amount_i64) "
    "VALUES ('agent_escrow', 0), ('founder_community', 0), ('otc_bridge_worker', 0)"
)

# Wiped by /devnet/reset, in an order that never leaves dangling references.
TABLES = (
    "agent_job_log",
    "agent_ratings",
    "agent_reputation",
    "agent_jobs",
    "transfer_nonces",
    "pending_ledger",
    "ledger",
    "balances",
)


class Store:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly by `tx`.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        conn.execute(SEED)
        return cls(conn)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    @contextmanager
    def savepoint(self, name: str = "row") -> Iterator[None]:
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        self.conn.execute(f"RELEASE {name}")

    # --- balances -------------------------------------------------------------------------

    def balance(self, wallet: str) -> int:
        row = self.conn.execute(
            "SELECT amount_i64 FROM balances WHERE miner_id = ?", (wallet,)
        ).fetchone()
        return int(row[0]) if row is not None else 0

    def adjust(self, wallet: str, delta_i64: int) -> None:
        """Instant, final balance move (RIP-302 escrow, confirms, the faucet)."""
        self.conn.execute(
            "INSERT INTO balances (miner_id, amount_i64) VALUES (?, ?) "
            "ON CONFLICT(miner_id) DO UPDATE SET amount_i64 = amount_i64 + excluded.amount_i64",
            (wallet, delta_i64),
        )

    def balances(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT miner_id, amount_i64 FROM balances ORDER BY miner_id")
        return {str(row[0]): int(row[1]) for row in rows}

    def mint(self, wallet: str, amount_i64: int) -> None:
        self.adjust(wallet, amount_i64)
        self.conn.execute(
            "UPDATE devnet_supply SET minted_i64 = minted_i64 + ? WHERE id = 1", (amount_i64,)
        )

    def minted(self) -> int:
        return int(self.conn.execute("SELECT minted_i64 FROM devnet_supply").fetchone()[0])

    # --- pending pool ---------------------------------------------------------------------

    def pending_debits(self, wallet: str) -> int:
        row = self.conn.execute(
            "SELECT COALESCE(SUM(amount_i64), 0) FROM pending_ledger "
            "WHERE from_miner = ? AND status = 'pending'",
            (wallet,),
        ).fetchone()
        return int(row[0])

    def pending_by_hash(self, tx_hash: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM pending_ledger WHERE tx_hash = ?", (tx_hash,)
        ).fetchone()
        return row

    def queue_transfer(
        self,
        *,
        now: int,
        epoch: int,
        from_miner: str,
        to_miner: str,
        amount_i64: int,
        reason: str,
        confirms_at: int,
        tx_hash: str,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO pending_ledger (ts, epoch, from_miner, to_miner, amount_i64, reason, "
            "status, created_at, confirms_at, tx_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            (now, epoch, from_miner, to_miner, amount_i64, reason, now, confirms_at, tx_hash),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def void_pending(self, pending_id: int, voided_by: object, reason: object) -> bool:
        cur = self.conn.execute(
            "UPDATE pending_ledger SET status = 'voided', voided_by = ?, voided_reason = ? "
            "WHERE id = ? AND status = 'pending'",
            (voided_by, reason, pending_id),
        )
        return cur.rowcount == 1

    def reset(self) -> None:
        for table in TABLES:
            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self.conn.execute("DELETE FROM sqlite_sequence")
        self.conn.execute("UPDATE devnet_supply SET minted_i64 = 0 WHERE id = 1")
        self.conn.execute(SEED)
