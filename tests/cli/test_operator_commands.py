"""The operator's commands as a new operator meets them: in a fresh folder with nothing
set, they refuse (naming the database and the settings that choose it, or the node
setting they need) and create nothing; with the settings, they say what happened in
words, and `--json` gives the same as data."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from otc_bridge.adapters.store.engine import make_engine, sqlite_url
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.store import Store
from otc_bridge.devnet.devnet_process import SETTING_PREFIXES
from otc_bridge.settlement.lease import Lease
from otc_bridge.settlement.reconciler import LEASE
from tests.support.forked import run_otc_bridge

UNREACHABLE_NODE = "http://127.0.0.1:9"  # discard: a node that never answers


def clean_environment(**settings: str) -> dict[str, str]:
    """The caller's environment without any bridge setting, nor USER or LOGNAME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SETTING_PREFIXES) and k not in {"USER", "LOGNAME"}
    }
    return {**env, **settings}


def otc(folder: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m otc_bridge <args>` in `folder` (forked from a pre-imported zygote)."""
    return run_otc_bridge(list(args), cwd=folder, env=clean_environment(**settings), timeout=120)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A migrated bridge database (as `otc-bridge migrate` leaves it)."""
    path = tmp_path / "bridge" / "otc.sqlite3"
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    engine.dispose()
    return path


def test_with_nothing_set_the_commands_refuse_and_create_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    for command in (
        ["orders", "list"],
        ["alerts", "list"],
        ["reconcile"],
        ["orders", "explain", "otc_1"],
    ):
        ran = otc(folder, *command)
        assert ran.returncode == 2, (command, ran.stdout, ran.stderr)
        assert ran.stdout == ""
        assert f"no database file at {folder.resolve() / 'otc_bridge.db'}" in ran.stderr
        assert "Neither OTC_DATABASE_URL nor OTC_DB_PATH is set" in ran.stderr
        assert 'eval "$(otc-bridge devnet env)"' in ran.stderr
    assert list(folder.iterdir()) == [], "no database, no .otc/secret.key"
    named = otc(folder, "orders", "list", OTC_DB_PATH="elsewhere.db")
    assert named.returncode == 2
    assert "It is OTC_DB_PATH's" in named.stderr
    url = otc(folder, "alerts", "list", OTC_DATABASE_URL=sqlite_url(folder / "x.sqlite3"))
    assert "It is OTC_DATABASE_URL's" in url.stderr
    assert list(folder.iterdir()) == []


def test_an_empty_database_is_not_a_bridge_database(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    ran = otc(tmp_path, "orders", "list", OTC_DB_PATH="empty.db")
    assert ran.returncode == 2
    assert "holds no otc-bridge schema" in ran.stderr


def test_commands_that_talk_to_the_node_need_rustchain_node(tmp_path: Path, database: Path) -> None:
    for command in (["orders", "explain", "otc_1"], ["reconcile"], ["serve"], ["worker"]):
        ran = otc(tmp_path, *command, OTC_DB_PATH=str(database), OTC_DATA_DIR="data")
        assert ran.returncode == 2, (command, ran.stderr)
        assert "RUSTCHAIN_NODE is not set" in ran.stderr
    assert not (tmp_path / "data").exists(), "no secret key was made"
    listed = otc(tmp_path, "orders", "list", OTC_DB_PATH=str(database))
    assert listed.returncode == 0, listed.stderr  # reading the database needs no node
    assert listed.stdout.strip() == (
        f"No orders in settlement_recovery (database {sqlite_url(database)})."
    )


def test_resolve_asks_who_is_resolving_when_user_is_unset(tmp_path: Path, database: Path) -> None:
    settings = {"OTC_DB_PATH": str(database), "RUSTCHAIN_NODE": UNREACHABLE_NODE}
    args = ["orders", "resolve", "otc_1", "--action", "redrive", "--reason", "wallet topped up"]
    anonymous = otc(tmp_path, *args, **settings)
    assert anonymous.returncode == 2
    assert "Give --operator NAME (or set OTC_OPERATOR, or USER)" in anonymous.stderr
    for who in ({"USER": "alice"}, {"OTC_OPERATOR": "alice"}):
        known = otc(tmp_path, *args, **settings, **who)
        assert (known.returncode, known.stderr.strip()) == (2, "refused: Order not found")
    named = otc(tmp_path, *args, "--operator", "alice", "--json", **settings)
    assert json.loads(named.stdout) == {"error": "Order not found"}
    helped = otc(tmp_path, "orders", "resolve", "--help")
    assert "--operator" in helped.stdout
    assert "OTC_OPERATOR" in helped.stdout


def test_alerts_and_orders_say_so_when_there_is_nothing(tmp_path: Path, database: Path) -> None:
    settings = {"OTC_DB_PATH": str(database)}
    alerts = otc(tmp_path, "alerts", "list", **settings)
    assert alerts.stdout.strip() == f"No alerts (database {sqlite_url(database)})."
    assert json.loads(otc(tmp_path, "alerts", "list", "--json", **settings).stdout) == []
    assert json.loads(otc(tmp_path, "orders", "list", "--json", **settings).stdout) == []
    migrated = otc(tmp_path, "migrate", "--json", **settings)
    assert json.loads(migrated.stdout)["revision"]


def test_reconcile_says_who_holds_the_lease_and_exits_3(tmp_path: Path, database: Path) -> None:
    engine = make_engine(sqlite_url(database))
    lease = Lease(Store(engine), LEASE, ttl_seconds=600)
    fence = lease.acquire()
    assert fence is not None
    try:
        settings = {"OTC_DB_PATH": str(database), "RUSTCHAIN_NODE": UNREACHABLE_NODE}
        words = otc(tmp_path, "reconcile", **settings)
        assert words.returncode == 3, words.stderr
        assert words.stdout.startswith("No pass was made: another process holds the reconciler")
        assert f"process {os.getpid()} on " in words.stdout
        assert " UTC (in " in words.stdout
        data = otc(tmp_path, "reconcile", "--json", **settings)
        assert data.returncode == 3
        summary = json.loads(data.stdout)
        assert summary["skipped_locked"] == 1
        assert summary["lease"]["holder"] == fence.holder
    finally:
        lease.release(fence)
        engine.dispose()
    free = otc(tmp_path, "reconcile", **settings)
    assert free.returncode == 0, free.stderr
    assert free.stdout.startswith("Reconcile pass done in ")
    assert "no order was due" in free.stdout


def test_devnet_env_without_a_devnet_says_where_it_looked(tmp_path: Path) -> None:
    ran = otc(tmp_path, "devnet", "env")
    assert ran.returncode == 2
    assert f"no devnet has started in {tmp_path.resolve() / '.devnet'}" in ran.stderr


def test_state_the_commands_may_create_is_ignored_by_git(tmp_path: Path) -> None:
    """What `serve`, `worker`, `migrate` and `make run` leave where they run (the default
    database and its WAL files, the data folder, the devnet) is covered by .gitignore."""
    repo = Path(__file__).resolve().parents[2]
    paths = [
        "otc_bridge.db", "otc_bridge.db-wal", "otc_bridge.db-shm", ".otc/secret.key",
        ".otc/metrics/counter_1.db", ".devnet/bridge-env.json", ".devnet/bridge.sqlite3-wal",
    ]  # fmt: skip
    checked = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", *paths],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    ignored = {line.split("\t")[-1] for line in checked.stdout.splitlines()}
    assert ignored == set(paths), f"not ignored: {set(paths) - ignored}"
