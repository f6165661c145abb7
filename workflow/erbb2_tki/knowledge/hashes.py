"""Release hashes: a sha256 of every data file and a content hash over them, kept in metadata.yaml.

An edited file fails the load until a new version is cut (`erbb2-tki kb hash --write`), so a rerun
can never change an answer silently.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from .files import (
    DATA_FILES,
    HASH_FIX,
    HASH_MARKER,
    METADATA_FILE,
    OPTIONAL_FILES,
)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, with CRLF read as LF (a Windows checkout hashes the same)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def combine_hashes(files: dict[str, str]) -> str:
    """The content hash: sha256 over the sorted 'name<TAB>sha256' lines."""
    text = "".join(f"{name}\t{files[name]}\n" for name in sorted(files))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def compute_hashes(base: Path) -> tuple[dict[str, str], str]:
    """(per-file sha256, content hash) of the data files as they are on disk now (an optional
    file an older version does not have is left out)."""
    files = {
        name: file_sha256(base / name)
        for name in DATA_FILES
        if name not in OPTIONAL_FILES or (base / name).exists()
    }
    return files, combine_hashes(files)


def _check_hashes(
    base: Path, metadata: dict[str, Any], files: dict[str, str], content_hash: str
) -> None:
    meta_path = str(base / METADATA_FILE)
    recorded = metadata.get("files") or {}
    version = metadata.get("version", "?")
    for name in DATA_FILES:
        if name not in files:  # an optional file this version does not have
            if name in recorded:
                raise InputError(
                    f"{name} is missing, but metadata.yaml records its sha256",
                    path=str(base / name),
                    fix="restore the file from the version's release",
                )
            continue
        if name not in recorded:
            raise InputError(
                f"metadata.yaml records no sha256 for {name}",
                path=meta_path,
                field=f"files.{name}",
                fix="run `erbb2-tki kb hash --write DIR` when cutting the version",
            )
        if recorded[name] != files[name]:
            raise InputError(
                f"{name} was changed after knowledge-base version {version} was cut: its sha256 is "
                f"{files[name][:12]}..., metadata.yaml records {recorded[name][:12]}...",
                path=str(base / name),
                field="content_hash",
                fix=HASH_FIX,
            )
    extra = sorted(set(recorded) - set(DATA_FILES))
    if extra:
        raise InputError(
            f"metadata.yaml lists files that are not part of the knowledge base: {', '.join(extra)}",
            path=meta_path,
            field="files",
            fix="run `erbb2-tki kb hash --write DIR`",
        )
    if metadata.get("content_hash") != content_hash:
        raise InputError(
            f"content_hash {metadata.get('content_hash')} does not match the recorded file hashes "
            f"({content_hash})",
            path=meta_path,
            field="content_hash",
            fix=HASH_FIX,
        )


def write_hashes(directory: str | os.PathLike[str] | None = None) -> tuple[str, bool]:
    """Validate everything but the hash, then record the current hashes in metadata.yaml.

    Returns (content hash, whether metadata.yaml changed). Everything above HASH_MARKER is kept
    byte for byte; the block below it is rewritten. The write is atomic.
    """
    from .loading import knowledge_dir, load_knowledge

    base = knowledge_dir(directory)
    load_knowledge(base, check_hash=False)
    files, content_hash = compute_hashes(base)
    meta_path = base / METADATA_FILE
    text = meta_path.read_text(encoding="utf-8")
    head = text.split(HASH_MARKER, 1)[0].rstrip("\n") + "\n"
    block = [HASH_MARKER, "files:"]
    block += [f"  {name}: {files[name]}" for name in sorted(files)]
    block.append(f'content_hash: "{content_hash}"')
    new = head + "\n".join(block) + "\n"
    if new == text:
        return content_hash, False
    _atomic_write(meta_path, new)
    return content_hash, True


def _atomic_write(path: Path, text: str) -> None:
    from .. import fileio

    fileio.atomic_write_text(path, text)
