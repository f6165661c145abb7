"""Spreadsheet formula neutralisation for TSV cells that hold text from the user's files.

A TSV opened in Excel, LibreOffice or Google Sheets runs a cell that starts with `=`, `+`, `-`
or `@` (and, in some, a tab or carriage return) as a formula ("CSV injection",
https://owasp.org/www-community/attacks/CSV_Injection). Text erbb2-tki copies from a VCF or a
sample sheet - sample and column names, FILTER values, REF/ALT, genotypes, paths, notes and the
error reasons that quote them - is written with a leading `'` when it would start one; OWASP's
recommendation, and what spreadsheet programs show as the plain text. Columns erbb2-tki fills
itself (HGVS names, numbers, verdicts, levels) are never changed, so `-1`, `c.-5A>G` or a
negative copy number stay as they are. The xlsx workbook holds its cells as typed text (never
formulas), so it shows the original text; readers of the TSVs (`restore`) undo the prefix.

The rule is reversible: a cell gets the `'` when, after any leading `'`, it starts with a
trigger; `restore` removes one `'` from exactly those cells. So a value that itself starts
with `'=` round-trips too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
UNTRUSTED_COLUMNS = frozenset(
    {
        "sample",
        "tumour_sample",
        "tumor_sample",
        "normal_sample",
        "filter",
        "ref",
        "alt",
        "genotype",
        "vcf",
        "vcf_as_given",
        "source",
        "reason",
        "note",
        "flags",
        "chrom",
        "svtype",
    }
)


def _triggers(text: str) -> bool:
    return text.lstrip("'").startswith(TRIGGERS)


def neutralise(text: str) -> str:
    """`text` as a TSV cell that no spreadsheet runs as a formula."""
    return "'" + text if text and _triggers(text) else text


def restore(text: str) -> str:
    """The original text of a cell written by neutralise."""
    return text[1:] if text.startswith("'") and _triggers(text) else text


def untrusted(columns: Sequence[str]) -> list[int]:
    """Indices of the columns whose cells are neutralised."""
    return [i for i, name in enumerate(columns) if name in UNTRUSTED_COLUMNS]


def restore_frame(frame: Any) -> Any:
    """A DataFrame read from one of the TSVs with its untrusted columns restored (in place)."""
    for column in frame.columns:
        if column in UNTRUSTED_COLUMNS:
            frame[column] = frame[column].map(restore)
    return frame
