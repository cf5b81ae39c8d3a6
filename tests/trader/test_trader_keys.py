"""The trader's files (`otc key`, `otc evm-key`, `otc secret`): mode 0600, passphrases,
never overwritten, refused when others may read them. No network: typer's CliRunner."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.domain.hashing import hashlock
from otc_bridge.trader_cli.app import app

# anvil's development mnemonic, account 1 (the devnet's second unlocked account)
DEV_ACCOUNT_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def otc(home: Path, *args: str, passphrase: str | None = None) -> Result:
    env = {
        "OTC_HOME": str(home),
        "OTC_KEY_PASSPHRASE": passphrase,
        "OTC_KEY_FILE": None,
        "OTC_EVM_KEY_FILE": None,
        "OTC_EVM_ACCOUNT": None,
    }
    return CliRunner().invoke(app, list(args), env=env)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_is_written_0600_and_shown_without_its_secret(tmp_path: Path) -> None:
    made = otc(tmp_path, "key", "new", "--json")
    assert made.exit_code == 0, made.output
    address = json.loads(made.stdout)["address"]
    key_file = tmp_path / "rtc-key.json"
    assert mode(key_file) == 0o600
    assert mode(tmp_path) == 0o700
    shown = otc(tmp_path, "key", "show")
    assert shown.exit_code == 0
    assert address in shown.stdout
    exported = otc(tmp_path, "key", "export", "--json")
    seed = json.loads(exported.stdout)["seed"]
    assert Wallet.from_seed(bytes.fromhex(seed)).address == address
    assert "anyone who sees it can spend your RTC" in exported.stderr


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    assert otc(tmp_path, "key", "new").exit_code == 0
    before = (tmp_path / "rtc-key.json").read_text()
    again = otc(tmp_path, "key", "new")
    assert again.exit_code == 4
    assert "exists already; it was left as it is" in again.stderr
    assert (tmp_path / "rtc-key.json").read_text() == before


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    assert otc(tmp_path, "key", "new").exit_code == 0
    key_file = tmp_path / "rtc-key.json"
    os.chmod(key_file, 0o644)
    refused = otc(tmp_path, "key", "show")
    assert refused.exit_code == 4
    assert f"may be read by others (mode 0644); it holds a secret: chmod 600 {key_file}" in (
        refused.stderr
    )
    os.chmod(key_file, 0o600)
    assert otc(tmp_path, "key", "show").exit_code == 0


def test_an_encrypted_key_needs_its_passphrase_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    seed = "11" * 32
    imported = otc(tmp_path, "key", "import", seed, "--encrypt", passphrase="correct horse")
    assert imported.exit_code == 0, imported.output
    body = json.loads((tmp_path / "rtc-key.json").read_text())
    assert "secret" not in body
    assert seed not in json.dumps(body)
    assert body["encrypted"]["kdf"] == "scrypt"

    shown = otc(tmp_path, "key", "show", "--json")  # the address needs no passphrase
    assert json.loads(shown.stdout)["encrypted"] is True

    wrong = otc(tmp_path, "key", "export", passphrase="battery staple")
    assert wrong.exit_code == 4
    assert "wrong passphrase" in wrong.stderr
    assert seed not in wrong.stdout

    missing = otc(tmp_path, "key", "export")
    assert missing.exit_code == 4
    assert "is encrypted: give its passphrase" in missing.stderr

    right = otc(tmp_path, "key", "export", "--json", passphrase="correct horse")
    assert right.exit_code == 0
    assert json.loads(right.stdout)["seed"] == seed


def test_a_bad_seed_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    bad = otc(tmp_path, "key", "import", "zz")
    assert bad.exit_code == 4
    assert "64 hex characters" in bad.stderr
    assert not (tmp_path / "rtc-key.json").exists()


def test_the_evm_key_of_a_devnet_account_and_its_encryption(tmp_path: Path) -> None:
    made = otc(tmp_path, "evm-key", "import", "--dev-account", "1", "--encrypt", passphrase="pw")
    assert made.exit_code == 0, made.output
    assert mode(tmp_path / "evm-key.json") == 0o600
    shown = otc(tmp_path, "evm-key", "show", "--json")
    assert json.loads(shown.stdout)["address"] == DEV_ACCOUNT_1
    wrong = otc(tmp_path, "evm-key", "export", passphrase="nope")
    assert wrong.exit_code == 4
    assert "wrong passphrase" in wrong.stderr


@pytest.mark.parametrize("args", [[], ["0x" + "ab" * 32, "--dev-account", "1"]])
def test_the_evm_key_import_takes_exactly_one_source(tmp_path: Path, args: list[str]) -> None:
    refused = otc(tmp_path, "evm-key", "import", *args)
    assert refused.exit_code == 4
    assert "give either a private key or --dev-account N" in refused.stderr


def test_a_secret_is_kept_0600_and_only_its_hashlock_is_shown(tmp_path: Path) -> None:
    made = otc(tmp_path, "secret", "new", "--json")
    assert made.exit_code == 0
    shown_hash = json.loads(made.stdout)["hashlock"]
    kept = json.loads((tmp_path / "secrets.json").read_text())
    assert mode(tmp_path / "secrets.json") == 0o600
    preimage = kept[shown_hash]["preimage"]
    assert hashlock(bytes.fromhex(preimage)) == shown_hash
    assert preimage not in made.stdout
    assert "Back up" not in made.stdout  # --json prints data only; warnings go to stderr
    assert f"Back up {tmp_path / 'secrets.json'} until the trade completes" in made.stderr
    listed = otc(tmp_path, "secret", "list", "--json")
    assert json.loads(listed.stdout)[0]["hashlock"] == shown_hash
    assert preimage not in listed.stdout


def test_an_unreachable_bridge_is_exit_1_and_says_so(tmp_path: Path) -> None:
    assert otc(tmp_path, "key", "new").exit_code == 0
    result = CliRunner().invoke(
        app, ["order", "show", "otc_0123456789abcdef", "--bridge", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "could not reach http://127.0.0.1:9" in result.stderr
    assert "nothing was decided, try again" in result.stderr
