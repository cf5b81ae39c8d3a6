"""Encryption at rest for the preimages the bridge generates for reference-era clients.

Our own clients generate the preimage and send only its hash; a client that sends no
hash gets a server-generated preimage, which the bridge must keep until it is revealed.
It is stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) under a key kept outside the
database, so a database or backup reader alone learns nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBoxError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, key: str | None, key_file: Path) -> SecretBox:
        """Use OTC_SECRET_KEY when set, else a key file (created 0600 on first use)."""
        if key:
            return cls(key.encode())
        if key_file.exists():
            return cls(key_file.read_bytes().strip())
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fresh = Fernet.generate_key()
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, fresh)
        finally:
            os.close(fd)
        return cls(fresh)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretBoxError("secret cannot be decrypted with this key") from None
