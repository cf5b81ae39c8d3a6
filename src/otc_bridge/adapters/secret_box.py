"""Encryption at rest for the preimages the bridge generates for reference-era clients.

Our own clients generate the preimage and send only its hash; a client that sends no
hash gets a server-generated preimage, which the bridge must keep until it is revealed.
It is stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) under a key kept outside the
database, so a database or backup reader alone learns nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBoxError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, key: str | None, key_file: Path, *, create: bool = True) -> SecretBox:
        """Use OTC_SECRET_KEY when set, else a key file (created 0600 on first use, unless
        `create` is False: an operator command must never make a key of its own, which
        could not open what the bridge sealed; it gets a box that says so when used)."""
        if key:
            return cls(key.encode())
        if not key_file.exists() and not create:
            return MissingKeyBox(key_file)
        if not key_file.exists():
            # Several processes may start at once: write a complete key to a private temp
            # file, then link it into place; the first link wins, every process reads it.
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=key_file.parent, prefix=".secret-")
            try:
                os.write(fd, Fernet.generate_key())
                os.close(fd)
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, key_file)
            finally:
                os.unlink(tmp)
        return cls(key_file.read_bytes().strip())

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretBoxError("secret cannot be decrypted with this key") from None


class MissingKeyBox(SecretBox):
    """No key where the settings say: seals and opens nothing, and says why."""

    def __init__(self, key_file: Path) -> None:  # no Fernet: there is no key
        self.key_file = key_file

    def _refuse(self) -> SecretBoxError:
        return SecretBoxError(
            f"no secret key: OTC_SECRET_KEY is not set and {self.key_file} does not exist "
            "(point OTC_DATA_DIR at the bridge's data folder, or set OTC_SECRET_KEY)"
        )

    def seal(self, plaintext: str) -> str:
        raise self._refuse()

    def open(self, token: str) -> str:
        raise self._refuse()
