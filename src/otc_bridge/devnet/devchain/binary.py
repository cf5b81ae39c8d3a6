"""Where the anvil binary is: the one `npm ci` put in node_modules, pinned by
package-lock.json, never a download and never whatever happens to be on PATH first.

Looked up, in order: `$ANVIL_BINARY`; `node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil`
in the current folder or any parent, then next to this source tree (an editable install
run from elsewhere); finally `anvil` on PATH (a developer's own Foundry).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

from otc_bridge.envparse import env_str

_OS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class AnvilNotFound(RuntimeError):
    """No anvil binary: the npm tools are not installed."""


def platform_package() -> str:
    os_name = _OS.get(sys.platform, sys.platform)
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    return f"@foundry-rs/anvil-{os_name}-{arch}"


def _in_node_modules(start: Path) -> Path | None:
    name = "anvil.exe" if sys.platform == "win32" else "anvil"
    relative = Path("node_modules", *platform_package().split("/"), "bin", name)
    for folder in (start, *start.parents):
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def find_anvil() -> Path:
    override = env_str("ANVIL_BINARY", "")
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise AnvilNotFound(f"ANVIL_BINARY={override} is not an executable file")
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        found = _in_node_modules(start)
        if found is not None:
            return found
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilNotFound(
        f"anvil not found: no node_modules/{platform_package()}/bin/anvil here or above, "
        "and none on PATH. Run `make node_modules/.installed` (npm ci) in the repository, "
        "or set ANVIL_BINARY."
    )
