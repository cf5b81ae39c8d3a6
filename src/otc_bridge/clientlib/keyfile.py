"""Key files a trader keeps: an RTC Ed25519 seed or an EVM private key, mode 0600.

    write_key(path, KeyKind.RTC, seed, public="RTC…", passphrase="…")   # or None
    read_key(path, KeyKind.RTC, passphrase="…") -> bytes

A key file is JSON: what it holds (`kind`), the public side in clear (the RTC address or
the EVM address, so `show` needs no passphrase), and either the secret in hex or, with a
passphrase, the secret sealed with AES-256-GCM under a key stretched by scrypt (salt and
nonce fresh per file, the public side bound as associated data so a file cannot be
spliced). Files are created 0600 and never overwritten here; a file that others may read
is refused, as ssh refuses a private key readable by others.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT_VERSION = 1
# scrypt at 2^15 costs ~0.1 s and 32 MiB: slow to guess, quick enough for each command.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class KeyKind(StrEnum):
    RTC = "rtc-ed25519-seed"
    EVM = "evm-private-key"


class KeyFileError(Exception):
    """The key file cannot be used; the message says why and what to do."""


class PassphraseNeeded(KeyFileError):
    """The file is encrypted and no passphrase was given."""


class WrongPassphrase(KeyFileError):
    pass


@dataclass(frozen=True, slots=True)
class KeyFileInfo:
    kind: KeyKind
    public: str  # the RTC address, or the EVM address
    encrypted: bool


def _kdf(salt: bytes) -> Scrypt:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)


def write_key(
    path: Path, kind: KeyKind, secret: bytes, *, public: str, passphrase: str | None
) -> None:
    """Create `path` (mode 0600, its folder 0700 if new); refuse if it exists."""
    body: dict[str, Any] = {"kind": kind.value, "version": FORMAT_VERSION, "public": public}
    if passphrase:
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        key = _kdf(salt).derive(passphrase.encode())
        sealed = AESGCM(key).encrypt(nonce, secret, public.encode())
        body["encrypted"] = {
            "kdf": "scrypt",
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": salt.hex(),
            "cipher": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": sealed.hex(),
        }
    else:
        body["secret"] = secret.hex()
    write_private_json(path, body, exclusive=True)


def write_private_json(path: Path, body: Any, *, exclusive: bool) -> None:
    """Write JSON readable by the owner only. `exclusive`: fail if the file exists;
    otherwise replace it atomically (a temporary 0600 file renamed over it)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()
    if exclusive:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"{path} exists already; it was left as it is") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_private_json(path: Path) -> Any:
    """The JSON in `path`, once its permissions show that only its owner can read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"{path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path} may be read by others (mode {stat.S_IMODE(mode):04o}); "
            f"it holds a secret: chmod 600 {path}"
        )
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path} is not a readable key file: {exc}") from None


def key_info(path: Path, kind: KeyKind) -> KeyFileInfo:
    body = _body(path, kind)
    return KeyFileInfo(kind, str(body["public"]), "encrypted" in body)


def read_key(path: Path, kind: KeyKind, *, passphrase: str | None) -> bytes:
    body = _body(path, kind)
    sealed = body.get("encrypted")
    try:
        if sealed is None:
            return bytes.fromhex(body["secret"])
        if not passphrase:
            raise PassphraseNeeded(
                f"{path} is encrypted: give its passphrase (OTC_KEY_PASSPHRASE, or type it)"
            )
        key = Scrypt(
            salt=bytes.fromhex(sealed["salt"]),
            length=32,
            n=int(sealed["n"]),
            r=int(sealed["r"]),
            p=int(sealed["p"]),
        ).derive(passphrase.encode())
        nonce, data = bytes.fromhex(sealed["nonce"]), bytes.fromhex(sealed["ciphertext"])
        return AESGCM(key).decrypt(nonce, data, str(body["public"]).encode())
    except InvalidTag:
        raise WrongPassphrase(f"wrong passphrase for {path}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyFileError(f"{path} is damaged ({exc!r})") from None


def _body(path: Path, kind: KeyKind) -> dict[str, Any]:
    body = read_private_json(path)
    if not isinstance(body, dict) or body.get("kind") != kind.value or "public" not in body:
        raise KeyFileError(f"{path} is not an {kind.value} key file")
    return body
