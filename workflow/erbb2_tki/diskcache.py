"""A small on-disk cache of parsed inputs (the knowledge base, the transcript model).

Parsing and checking them costs more than the rest of a short command, and every job and command
line used to pay it. Entries are pickles in a user cache folder, each named by a key over
everything the parse depends on: the caller puts the bytes of the inputs in the key, this module
adds the package version and the bytes of the package's code and schemas. An entry is only used
when its stored key and package version match; anything unreadable is ignored (the caller parses
again) and a folder that cannot be written only costs the parse.

Folder: $ERBB2_TKI_CACHE_DIR if set ("", "off", "0" or "none" turn the cache off), else
$XDG_CACHE_HOME/erbb2-tki, else ~/.cache/erbb2-tki.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from . import __version__, paths

CACHE_ENV = "ERBB2_TKI_CACHE_DIR"
CACHE_FORMAT = 1

_CODE_FINGERPRINT: str | None = None


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit is not None:
        return None if explicit.strip().lower() in ("", "off", "0", "none") else Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "erbb2-tki"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "erbb2-tki" if home else None


def code_fingerprint() -> str:
    """sha256 over the package version, modules and schemas: a code change never reuses a parse."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is None:
        digest = hashlib.sha256(f"format {CACHE_FORMAT}\n{__version__}\n".encode())
        for name, path in _code_files():
            digest.update(name.encode() + b"\0")
            try:
                with open(path, "rb") as handle:
                    digest.update(handle.read())
            except OSError:
                digest.update(b"?")
        _CODE_FINGERPRINT = digest.hexdigest()
    return _CODE_FINGERPRINT


def _code_files() -> list[tuple[str, str]]:
    """(name, path) of every module of the package, subpackages (knowledge/, vcf/) included, named
    by its path in the package, then every schema file by its name; in this order.

    os.walk and strings, not pathlib's rglob: this runs on every warm load, where pathlib cost
    more than reading and hashing the files.
    """
    package = str(paths.PACKAGE_DIR)
    modules = []
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = [d for d in subfolders if d != paths.BUNDLE]  # a wheel's copied workflow
        where = os.path.relpath(folder, package)
        for name in names:
            if name.endswith(".py"):
                relative = name if where == "." else f"{where.replace(os.sep, '/')}/{name}"
                modules.append((relative, os.path.join(folder, name)))
    schemas = str(paths.schemas_dir())
    try:
        schema_names = sorted(os.listdir(schemas))
    except OSError:
        schema_names = []
    return sorted(modules) + [(name, os.path.join(schemas, name)) for name in schema_names]


def key_of(*parts: bytes | str) -> str:
    """A cache key over the code fingerprint and the given parts (bytes or text)."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def entry_path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{kind}-{key}.pickle"


def read(kind: str, key: str, expected: type) -> Any | None:
    """The cached object of `expected` type under (kind, key), or None."""
    path = entry_path(kind, key)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        entry = pickle.loads(data)
    except Exception:  # a truncated or foreign file is not an error: parse again
        return None
    if (
        not isinstance(entry, dict)
        or entry.get("key") != key
        or entry.get("version") != __version__
        or not isinstance(entry.get("value"), expected)
    ):
        return None
    return entry["value"]


def write(kind: str, key: str, value: Any) -> None:
    """Store an object atomically; a folder that cannot be written is silently skipped."""
    path = entry_path(kind, key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps(
            {"key": key, "version": __version__, "value": value}, protocol=pickle.HIGHEST_PROTOCOL
        )
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return
