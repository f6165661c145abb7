"""Open any VCF dialect with htslib (cyvcf2) after the checks htslib does not word clearly.

Everything a user can get wrong is raised as InputError naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .bgzf import iter_text
from .header import _checked_head, _htslib_error, _without_fileformat

if TYPE_CHECKING:  # imported where a file is opened: cyvcf2 brings numpy (~0.1 s)
    import cyvcf2


def _open_with_fileformat(path: Path, kind: str) -> cyvcf2.VCF:
    """Open a VCF that lacks its ##fileformat line through a corrected temporary copy.

    htslib refuses such files, though everything else may be fine (hand-made or old exports).
    The copy is unlinked as soon as htslib holds it open, so nothing is left behind.
    """
    import cyvcf2

    fd, tmp = tempfile.mkstemp(prefix="erbb2-tki-", suffix=".vcf")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(b"##fileformat=VCFv4.2\n")
            for chunk in iter_text(path, kind):
                out.write(chunk)
        return cyvcf2.VCF(tmp)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def open_vcf(path: str | os.PathLike[str]) -> cyvcf2.VCF:
    """Open a VCF (.vcf, .vcf.gz from bgzip or gzip, .bcf), with or without samples.

    Checks what htslib does not say clearly (missing, empty, truncated, not a VCF, no #CHROM
    line, spaces for tabs, duplicate sample names) and raises InputError naming the file and the
    fix. CRLF line endings are read by htslib itself; a header without any '##' line is opened
    through a corrected temporary copy.
    """
    import cyvcf2

    p = Path(path)
    kind, head = _checked_head(p)
    try:
        if not head.startswith(b"BCF") and _without_fileformat(head):
            return _open_with_fileformat(p, kind)
        return cyvcf2.VCF(str(p))
    except InputError:
        raise
    except Exception as err:  # htslib reports every failure as a bare Exception or OSError
        raise _htslib_error(p, err) from None
