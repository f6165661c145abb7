"""The one way erbb2-tki writes a file: atomically, readable by the group, and with a clear error.

Every writer (tables, plots, annotate, extract, knowledge, kb_cli, reanalysis) goes through
`atomic_write_bytes` or `atomic_target`, so:

- a reader (or a re-run after a kill) sees the old file or the new one, never half of one: the
  data goes to a temporary file beside the target (same folder, so the rename is atomic), is
  fsync'ed, then renamed over the target;
- the result has mode 0666 minus the umask (0644 under the usual 022), like any file the user
  writes: the temporary file is opened with os.open(..., 0o666), not mkstemp's 0600;
- every temporary name has one form, `.{target}.{pid}.{8 hex}.tmp[.suffix]`, so `temp_targets`
  knows which output any leftover belonged to and `remove_leftovers` can delete exactly the
  ones of the outputs a job is about to rewrite (other shards' jobs write beside them);
- a full disk (ENOSPC, EDQUOT, or a writer library that only says "error -1" while the file
  system has no room left) is `DiskFullError`: "no space left on device while writing FILE",
  one line, never a traceback.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

# The temporary-file form every writer uses: ".NAME.PID.HEX8.tmp[.suffix...]"; the forms older
# versions left are ".NAME.TAG[.TAG].tmp[.suffix...]" too (PID and/or a random tag; extract's
# ".tmp.vcf.gz", and ".tmp.vcf.gz.gz" where tabix compressed a file a full disk had cut short).
_TEMP = re.compile(r"^\.(?P<head>[^/]+?)\.tmp(?:\.[A-Za-z0-9]+)*$")
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_MIN_FREE = 1 << 20  # below this many free bytes an unexplained write error is a full disk


class DiskFullError(InputError):
    """The file system ran out of room (or quota) while erbb2-tki wrote an output."""


def temp_name(target: Path, suffix: str = "") -> Path:
    """A fresh temporary path beside `target` in the one form cleanup knows."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")


def temp_targets(name: str) -> list[str]:
    """The output file names a temporary file name can belong to ([]: not a temporary file).

    NAME with its one or two tags removed: both readings are returned, since an output's own
    name may end in what looks like a tag.
    """
    match = _TEMP.match(name)
    if not match:
        return []
    head = match.group("head").split(".")
    return [".".join(head[:-tags]) for tags in (1, 2) if len(head) > tags]


def leftovers(folders: Iterable[str | os.PathLike[str]]) -> dict[tuple[Path, str], list[Path]]:
    """Temporary files in `folders`, by (folder, target name): one listing per folder."""
    found: dict[tuple[Path, str], list[Path]] = {}
    for folder in sorted({Path(f) for f in folders}):
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            for target in temp_targets(entry.name):
                found.setdefault((folder, target), []).append(Path(entry.path))
    return found


def remove_leftovers(folder: str | os.PathLike[str], names: Iterable[str] | None = None) -> int:
    """Delete the temporary files in `folder` (only those of the target `names`, if given)."""
    wanted = None if names is None else set(names)
    removed = 0
    for (_, target), paths in leftovers([folder]).items():
        if wanted is None or target in wanted:
            for path in paths:
                if path.exists():
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


def write_error(path: str | os.PathLike[str], err: BaseException) -> InputError | None:
    """The one-line error for a failed write of `path`, or None when it is not the disk's fault.

    ENOSPC/EDQUOT, or any OSError while the folder's file system has under 1 MB free (htslib
    writers report a full disk as "error -1 when writing"), is a DiskFullError.
    """
    if not isinstance(err, OSError):
        return None
    target = Path(path)
    full = err.errno in _NO_SPACE
    if not full:
        try:
            stat = os.statvfs(target.parent if target.parent.exists() else Path("."))
            full = stat.f_bavail * stat.f_frsize < _MIN_FREE
        except OSError:
            full = False
    if not full:
        return None
    return DiskFullError(
        f"no space left on device while writing {target}",
        path=str(target),
        fix=f"free space on the file system that holds {target.parent} (df -h shows it), or "
        "point the run at another folder, and run again",
    )


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a full disk while writing `path` into DiskFullError (other errors pass through)."""
    try:
        yield
    except InputError:
        raise
    except OSError as err:
        problem = write_error(path, err)
        if problem is not None:
            raise problem from None
        raise


def fsync_file(fd: int) -> None:
    """fsync, where the file system supports it; a full disk it reports is raised."""
    try:
        os.fsync(fd)
    except OSError as err:  # some file systems (and /dev files) do not support it
        if err.errno in _NO_SPACE:
            raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically (see the module docstring); returns the target."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_name(target)
    try:
        with writing(target):
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                fsync_file(fd)
            finally:
                os.close(fd)
            os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """atomic_write_bytes of UTF-8 text ('\\n' line ends as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(
    path: str | os.PathLike[str], write: Callable[[Path], object], suffix: str = ""
) -> Path:
    """Let `write(temp_path)` produce the file (a library writer), then rename it into place.

    `suffix` ends the temporary name where the writer needs it (e.g. '.vcf.gz'). The temporary
    file gets the usual permissions (the library creates it with open()).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_name(target, suffix)
    try:
        with writing(target):
            write(temp)
            if temp.exists():
                fd = os.open(temp, os.O_RDONLY)
                try:
                    fsync_file(fd)
                finally:
                    os.close(fd)
            os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, mapped into memory (read in 1 MiB blocks when it cannot be
    mapped: empty, a pipe); '' when it cannot be read.

    About 2 s per GB; the workflow computes it once per sample in the extract job, which is
    re-run only when the VCF changes.
    """
    import hashlib
    import mmap

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            try:  # mapped: hashed without copying the file into Python (~1 ms per WES VCF)
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    digest.update(mapped)
                return digest.hexdigest()
            except (ValueError, OSError):  # empty, or not a regular file (a pipe)
                pass
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()
