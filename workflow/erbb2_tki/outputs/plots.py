"""Batch figures: a lollipop of the batch's ERBB2 alleles on the NP_004439.2 domain map, and a
sample x drug verdict heatmap, written as SVG text directly (no pandas, no matplotlib).

Both read the batch tables as rows of text (results/batch/alleles.tsv and verdicts.tsv, which the
summarize job gathers from the shards; report_html.py streams them and calls these). Memory does
not follow the batch size beyond a few bytes per sample: the lollipop keeps one tally per residue
and allele, the heatmap one byte per sample and drug (a 10,000 x 25 grid is 250 kB), and a batch
too large to name its samples is drawn as one small palette PNG per drug group, embedded in the
SVG (written with zlib and struct: each pixel one sample). Output is byte-identical between runs
on the same inputs: no dates, no random ids, fixed number formatting.
"""

from __future__ import annotations

import base64
import html
import os
import re
import struct
import textwrap
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import PROTEIN
from . import vocab

PROTEIN_LENGTH = 1255  # NP_004439.2

# The vocabulary (names, letters, colours) lives in vocab.py; these names stay for callers.
VERDICTS = vocab.VERDICTS
VERDICT_COLOURS = {s: vocab.STYLE[s].colour for s in vocab.STATES}
VERDICT_LETTERS = {s: vocab.STYLE[s].letter for s in vocab.STATES}
VERDICT_LABELS = {s: vocab.STYLE[s].label for s in vocab.STATES}

# Above this many samples a column per sample is too thin to carry a readable name: the heatmap
# drops sample names and sorts columns by verdict pattern, so it reads as a batch overview;
# the names are in drug_matrix.tsv and in the report's verdict table.
MAX_LABELLED_SAMPLES = 60

CONSEQUENCE_CLASSES = ("truncating", "in-frame indel", "missense", "other", "synonymous")
CONSEQUENCE_COLOURS = {
    "truncating": "#000000",
    "in-frame indel": "#8B4513",
    "missense": "#0072B2",
    "other": "#999999",
    "synonymous": "#56B4E9",
}
_TRUNCATING = {
    "stop_gained",
    "frameshift_variant",
    "start_lost",
    "stop_lost",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "transcript_ablation",
}
_INFRAME = {"inframe_insertion", "inframe_deletion", "protein_altering_variant"}
_SYNONYMOUS = {"synonymous_variant", "stop_retained_variant", "start_retained_variant"}

# One label per distinct residue would be unreadable in a 500-sample batch; recurrent residues
# are labelled, and every residue when the batch has this few.
LABEL_ALL_UP_TO = 10
MAX_LABELS = 15

_HGVSP_START = re.compile(r"^(?:p\.)?\(?(?:[A-Z][a-z]{2}|[A-Z*])?(\d+)")
_FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'

Row = Mapping[str, Any]


def records(table: Any) -> Iterable[Row]:
    """Rows of a table as mappings: rows as given, or a DataFrame's rows (for callers that hold
    one; pandas is not imported here)."""
    if table is None:
        return []
    if hasattr(table, "to_dict"):
        rows: Iterable[Row] = table.astype(object).where(table.notna(), "").to_dict("records")
        return rows
    return table


def _e(value: object) -> str:
    """Text as SVG character data (quotes stay as they are: they only matter in attributes)."""
    return html.escape("" if value is None else str(value), quote=False)


def _num(value: float) -> str:
    """A coordinate as short, stable text."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Domain:
    """A named span of NP_004439.2 (1-based, inclusive)."""

    name: str
    start: int
    end: int
    source: str = ""


def protein_start(row: Row) -> int | None:
    """First residue an allele touches: the protein_start column, else read from hgvsp_short.

    None for alleles that do not reach the protein (intronic, UTR, splice region without a p.).
    """
    value = row.get("protein_start", "")
    if value is not None and str(value).strip() not in ("", "nan", "None"):
        try:
            return int(float(str(value)))
        except ValueError:
            pass
    for column in ("hgvsp_short", "hgvsp"):
        text = str(row.get(column, "") or "").strip()
        if not text or text in ("p.?", "p.0", "p.(?)"):
            continue
        match = _HGVSP_START.match(text)
        if match:
            return int(match.group(1))
    return None


def sample_failed(status: Any) -> bool:
    """True when a batch-summary status says the sample could not be annotated.

    Any status naming a failure or error counts; every other status (ok, no ERBB2 calls, ...)
    means the sample was annotated and a missing verdict row means no evidence.
    """
    text = str(status or "").strip().lower()
    return "fail" in text or "error" in text


def consequence_class(consequence: str) -> str:
    """Collapse Sequence Ontology terms (most severe first, '&'-joined) into a plotting class."""
    terms = [t for t in str(consequence or "").split("&") if t]
    for term in terms:
        if term in _TRUNCATING:
            return "truncating"
        if term in _INFRAME:
            return "in-frame indel"
        if term == "missense_variant":
            return "missense"
        if term in _SYNONYMOUS:
            return "synonymous"
    return "other"


def is_oncogenic(oncogenicity: str) -> bool:
    """True for the knowledge base's oncogenic and likely-oncogenic calls."""
    text = str(oncogenicity or "").strip().lower().replace("-", "_").replace(" ", "_")
    if not text or text in ("nan", "unknown", "vus"):
        return False
    if text.startswith(("not_", "non_", "likely_neutral", "neutral", "inconclusive")):
        return False
    return "oncogenic" in text


def _domains(transcript: Any) -> list[Domain]:
    """Domains from a loaded transcript (its .domains) or a plain list of tuples/dicts."""
    raw = getattr(transcript, "domains", transcript) if transcript is not None else []
    out: list[Domain] = []
    for item in raw or []:
        if isinstance(item, Domain):
            out.append(item)
        elif isinstance(item, dict):
            out.append(
                Domain(
                    str(item["name"]),
                    int(item["start"]),
                    int(item["end"]),
                    str(item.get("source", "")),
                )
            )
        elif hasattr(item, "name") and hasattr(item, "start"):
            out.append(
                Domain(str(item.name), int(item.start), int(item.end), getattr(item, "source", ""))
            )
        else:
            name, start, end, *rest = item
            out.append(Domain(str(name), int(start), int(end), str(rest[0]) if rest else ""))
    return sorted(out, key=lambda d: (d.start, -d.end, d.name))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write beside the target, then rename: a reader sees the old file or the new, never half.

    The temporary file is opened normally (not mkstemp's 0600) so the result has the same
    permissions as any other output under the user's umask, readable by the rest of the group.
    """
    from .. import fileio

    return fileio.atomic_write_bytes(path, data)


def _write_svg(out_path: str | os.PathLike[str], parts: Iterable[str]) -> Path:
    target = Path(out_path)
    if target.suffix.lower() not in (".svg", ""):
        raise ValueError(f"{target}: the batch figures are written as SVG only")
    return atomic_write_bytes(target, "".join(parts).encode("utf-8"))


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" xml:space="preserve" '
        f'style="white-space:pre" {_FONT} role="img"><title>{_e(title)}</title>'
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="#FFFFFF"/>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    size: float = 10,
    anchor: str = "start",
    extra: str = "",
) -> str:
    """One line of text (a <text> element with no markup inside: readers and tests find it)."""
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}"{anchor_attr}{extra}>'
        f"{_e(text)}</text>"
    )


# ---------------------------------------------------------------------------------------------
# The lollipop


def _usable(row: Row) -> bool:
    """An allele row that decides verdicts: used_for_verdict == yes where the table has that
    column, else FILTER PASS (or missing) where it has that one, else every row."""
    if "used_for_verdict" in row:
        return str(row.get("used_for_verdict", "")).strip() == "yes"
    if "filter" in row:
        return str(row.get("filter", "")).strip() in ("PASS", ".", "", "nan")
    return True


def _allele_name(row: Row) -> str:
    return str(row.get("hgvsp_short", "") or "").removeprefix("p.") or str(row.get("hgvsc", ""))


@dataclass(frozen=True)
class Residue:
    """One stem of the lollipop: a residue with the batch's alleles there."""

    residue: int
    n_samples: int  # distinct samples with any allele at the residue
    label: str  # alleles there, most frequent first, with sample counts when more than one
    consequence_class: str  # of the most frequent allele (ties: the more severe class)
    oncogenic: bool  # any allele there is (likely) oncogenic in the knowledge base


class AlleleTally:
    """The lollipop's numbers from one pass over the alleles table (rows in any order).

    Holds one entry per residue and per distinct allele, each with the (numbered) samples that
    carry it: memory follows the alleles drawn, not the table's rows or columns.
    """

    def __init__(self) -> None:
        self.rows = 0
        self.left_out = 0  # rows that do not decide verdicts (filtered, set aside)
        self.off_protein = 0  # usable rows without a protein position (intronic, UTR)
        self._ids: dict[str, int] = {}
        self._carriers: set[int] = set()
        self._at: dict[int, set[int]] = {}
        self._alleles: dict[tuple[int, str], tuple[set[int], str, list[bool]]] = {}

    def add(self, row: Row) -> None:
        self.rows += 1
        if not _usable(row):
            self.left_out += 1
            return
        sample = self._ids.setdefault(str(row.get("sample", "")), len(self._ids))
        self._carriers.add(sample)
        residue = protein_start(row)
        if residue is None:
            self.off_protein += 1
            return
        residue = min(max(residue, 1), PROTEIN_LENGTH)
        self._at.setdefault(residue, set()).add(sample)
        key = (residue, _allele_name(row))
        entry = self._alleles.get(key)
        if entry is None:
            entry = (set(), consequence_class(str(row.get("consequence", ""))), [False])
            self._alleles[key] = entry
        entry[0].add(sample)
        if not entry[2][0] and is_oncogenic(str(row.get("oncogenicity", ""))):
            entry[2][0] = True

    def extend(self, rows: Iterable[Row]) -> AlleleTally:
        for row in rows:
            self.add(row)
        return self

    @property
    def carriers(self) -> int:
        """Samples with at least one allele that decides verdicts."""
        return len(self._carriers)

    def residues(self) -> list[Residue]:
        severity = {c: i for i, c in enumerate(CONSEQUENCE_CLASSES)}
        per: dict[int, list[tuple[int, int, str, str, bool]]] = {}
        for (residue, name), (samples, klass, onco) in self._alleles.items():
            per.setdefault(residue, []).append(
                (-len(samples), severity[klass], name, klass, onco[0])
            )
        out = []
        for residue in sorted(per):
            alleles = sorted(per[residue])
            many = len(alleles) > 1
            label = "/".join(
                name + (f" ({-negative})" if many else "") for negative, _, name, _, _ in alleles
            )
            out.append(
                Residue(
                    residue,
                    len(self._at[residue]),
                    label,
                    alleles[0][3],
                    any(a[4] for a in alleles),
                )
            )
        return out


def residue_counts(alleles: Any) -> list[Residue]:
    """One Residue per residue carrying a protein-changing allele, sorted by residue (the rows
    given are all counted: pass the usable ones)."""
    tally = AlleleTally()
    for row in records(alleles):
        tally.add({**row, "used_for_verdict": "yes"})
    return tally.residues()


def spread_labels(
    positions: Sequence[float], widths: Sequence[float], low: float, high: float
) -> list[float]:
    """Label centres as close as possible to `positions` without overlapping.

    positions are sorted; widths are each label's extent on the same axis. Labels are pushed
    right until they clear the one before, then pulled back left from the upper bound, so a dense
    cluster fans out around its residues instead of drifting off the protein.
    """
    placed = [float(p) for p in positions]
    if not placed:
        return placed
    placed[0] = max(placed[0], low + widths[0] / 2)
    for k in range(1, len(placed)):
        need = (widths[k - 1] + widths[k]) / 2
        placed[k] = max(placed[k], placed[k - 1] + need)
    placed[-1] = min(placed[-1], high - widths[-1] / 2)
    for k in range(len(placed) - 2, -1, -1):
        need = (widths[k] + widths[k + 1]) / 2
        placed[k] = min(placed[k], placed[k + 1] - need)
    # only when the labels are wider than the axis together does the first now start left of
    # `low`: overlapping would be worse than reaching past the end of the protein
    return placed


def _nice_step(top: int) -> int:
    """An axis step (1, 2, 5 x 10^k) giving at most about six ticks up to `top`."""
    step = 1
    while top / step > 6:
        for factor in (2, 5 / 2, 2):
            step = int(step * factor)
            if top / step <= 6:
                break
    return step


# Geometry of the lollipop, in SVG px (1/96 inch)
_L_WIDTH, _L_LEFT, _L_RIGHT = 960, 60, 150
_L_STEMS = 190  # height of the stem area
_LINE_PX = 12  # one rotated label line's width on the x axis
_CHAR_PX = 6.0  # one character of 10-px text


def lollipop(
    alleles: Any,
    transcript: Any,
    out_path: str | os.PathLike[str],
    *,
    n_samples: int | None = None,
    title: str | None = None,
) -> Path:
    """Draw the batch's ERBB2 alleles as stems on the NP_004439.2 domain map (SVG).

    alleles: the gathered alleles rows (one per sample x ALT allele; mappings, a DataFrame, or
    an AlleleTally already filled from them). Only alleles that decide verdicts are drawn
    (used_for_verdict == "yes" when that column exists, else FILTER PASS or missing); the figure
    states how many rows were left out. Stem height is the number of samples with an allele at
    that residue; colour is the consequence class of the most frequent allele there; a black
    ring marks residues with an allele the knowledge base calls oncogenic. transcript: the
    loaded transcript (its .domains: (name, start, end, source)), or that list itself.
    n_samples: batch size for the title (samples without alleles included).
    """
    from .patient_report import _DOMAIN_FILLS, domain_track_svg

    tally = alleles if isinstance(alleles, AlleleTally) else AlleleTally().extend(records(alleles))
    domains = _domains(transcript)
    counts = tally.residues()
    width, left, right = _L_WIDTH, _L_LEFT, _L_RIGHT
    scale = (width - left - right) / PROTEIN_LENGTH

    def x(residue: float) -> float:
        return left + (min(max(residue, 1), PROTEIN_LENGTH) - 0.5) * scale

    heading = title or f"ERBB2 alleles in this batch on {PROTEIN} ({PROTEIN_LENGTH} aa)"
    batch = f"{n_samples} samples, " if n_samples is not None else ""
    notes = [f"{batch}{tally.carriers} with at least one allele drawn"]
    if tally.left_out:
        notes.append(
            f"{tally.left_out} allele row(s) not drawn (filtered, not in the tumour, etc.)"
        )
    if tally.off_protein:
        notes.append(f"{tally.off_protein} allele row(s) off the protein (intronic/UTR)")

    # labels: every residue when few, else the recurrent ones (most samples first)
    if len(counts) <= LABEL_ALL_UP_TO:
        labelled = list(counts)
    else:
        recurrent = [c for c in counts if c.n_samples >= 2]
        labelled = sorted(recurrent, key=lambda c: (-c.n_samples, c.residue))[:MAX_LABELS]
    labelled.sort(key=lambda c: c.residue)
    blocks = [c.label.split("/") for c in labelled]
    longest = max((len(line) for block in blocks for line in block), default=0)
    label_h = min(longest * _CHAR_PX + 8, 130) if blocks else 0

    top_y = 52  # below the two title lines
    baseline = top_y + label_h  # the labels stand on this line
    stem_top = baseline + 14
    axis_y = stem_top + _L_STEMS
    track_y, track_h = axis_y + 16, 22
    legend_y = track_y + track_h + 34
    legend_rows = (len(domains) + 2) // 3 if domains else 1
    height = legend_y + 16 * legend_rows + 8

    parts = [
        _svg_open(width, height, heading),
        _text(10, 18, heading, 13),
        _text(10, 36, "; ".join(notes), 10.5, extra=' fill="#333333"'),
    ]
    if not counts:
        message = "No ERBB2 alleles on the protein in this batch"
        if tally.rows == 0:
            message = "No ERBB2 calls in this batch"
        parts.append(
            _text(
                (left + width - right) / 2,
                (stem_top + axis_y) / 2,
                message,
                16,
                "middle",
                ' fill="#333333"',
            )
        )
    else:
        top = max(c.n_samples for c in counts)
        step = _nice_step(top)
        y_max = max(top, step)

        def y(value: float) -> float:
            return axis_y - value / y_max * _L_STEMS

        # y axis: ticks, grid marks and its name
        parts.append(
            f'<line x1="{left - 6}" y1="{_num(stem_top)}" x2="{left - 6}" y2="{_num(axis_y)}" '
            'stroke="#333333" stroke-width="0.8"/>'
        )
        for value in range(0, y_max + 1, step):
            parts.append(
                f'<line x1="{left - 10}" y1="{_num(y(value))}" x2="{left - 6}" '
                f'y2="{_num(y(value))}" stroke="#333333" stroke-width="0.8"/>'
            )
            parts.append(_text(left - 13, y(value) + 3.5, str(value), 9.5, "end"))
        cy = (stem_top + axis_y) / 2
        parts.append(
            _text(
                16,
                cy,
                "samples with an allele at the residue",
                10,
                "middle",
                f' transform="rotate(-90 16 {_num(cy)})"',
            )
        )
        parts.append(
            f'<line x1="{left}" y1="{_num(axis_y)}" x2="{width - right}" y2="{_num(axis_y)}" '
            'stroke="#999999" stroke-width="0.6"/>'
        )
        # leader lines and labels, fanned out sideways so neighbours never print over each
        # other; then the stems and heads on top
        centres = spread_labels(
            [x(c.residue) for c in labelled],
            [len(block) * _LINE_PX + 3 for block in blocks],
            left,
            width - right,
        )
        for c, block, cx in zip(labelled, blocks, centres, strict=True):
            sx = x(c.residue)
            parts.append(
                f'<polyline points="{_num(sx)},{_num(y(c.n_samples))} {_num(sx)},'
                f'{_num(stem_top - 4)} {_num(cx)},{_num(baseline)}" fill="none" '
                'stroke="#999999" stroke-width="0.5"/>'
            )
            first = cx - (len(block) - 1) * _LINE_PX / 2 + 3.5
            for k, line in enumerate(block):
                lx = first + k * _LINE_PX
                parts.append(
                    _text(
                        lx,
                        baseline - 2,
                        line,
                        10,
                        extra=f' transform="rotate(-90 {_num(lx)} {_num(baseline - 2)})"',
                    )
                )
        for c in counts:
            at = _num(x(c.residue))
            parts.append(
                f'<line x1="{at}" y1="{_num(axis_y)}" x2="{at}" y2="{_num(y(c.n_samples))}" '
                'stroke="#777777" stroke-width="1.3"/>'
            )
            ring = (
                'stroke="#000000" stroke-width="2"'
                if c.oncogenic
                else ('stroke="#FFFFFF" stroke-width="1"')
            )
            parts.append(
                f'<circle cx="{at}" cy="{_num(y(c.n_samples))}" r="5.5" '
                f'fill="{CONSEQUENCE_COLOURS[c.consequence_class]}" {ring}>'
                f"<title>{_e(c.label)}: {c.n_samples} sample(s) at residue {c.residue}</title>"
                "</circle>"
            )
        # the consequence legend, right of the stems
        lx, ly = width - right + 16, stem_top + 4
        parts.append(_text(lx, ly, "consequence", 10, extra=' font-weight="bold"'))
        present = {c.consequence_class for c in counts}
        for klass in (k for k in CONSEQUENCE_CLASSES if k in present):
            ly += 17
            parts.append(
                f'<rect x="{lx}" y="{_num(ly - 9)}" width="14" height="10" '
                f'fill="{CONSEQUENCE_COLOURS[klass]}"/>'
            )
            parts.append(_text(lx + 20, ly, klass, 10))
        if any(c.oncogenic for c in counts):
            ly += 17
            parts.append(
                f'<circle cx="{lx + 7}" cy="{_num(ly - 4)}" r="5" fill="#FFFFFF" '
                'stroke="#000000" stroke-width="2"/>'
            )
            parts.append(_text(lx + 20, ly, "oncogenic (KB)", 10))

    # the domain map (the same drawing as each sample's page) and its legend
    spans = [(d.name, d.start, d.end) for d in domains]
    parts += domain_track_svg(spans, track_y, track_h, left, right, width)
    parts.append(
        _text(
            (left + width - right) / 2,
            track_y + track_h + 28,
            f"residue of {PROTEIN}",
            10,
            "middle",
        )
    )
    if not domains:
        parts.append(
            _text((left + width - right) / 2, legend_y + 10, "no domain map loaded", 10, "middle")
        )
    for i, domain in enumerate(domains):
        row, column = divmod(i, 3)
        dx, dy = left + column * 280, legend_y + row * 16
        parts.append(
            f'<rect x="{dx}" y="{dy}" width="14" height="10" stroke="#567" '
            f'fill="{_DOMAIN_FILLS[i % len(_DOMAIN_FILLS)]}"/>'
        )
        parts.append(_text(dx + 20, dy + 9, f"{domain.name} {domain.start}-{domain.end}", 10))
    parts.append("</svg>\n")
    return _write_svg(out_path, parts)


# ---------------------------------------------------------------------------------------------
# The verdict grid (heatmap and verdict page)


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: the state (a verdict, no_allele or failed), the AMP tier and the
    tumour-type context of the evidence that decided it."""

    state: str
    tier: str = ""
    context: str = ""


_EMPTY = Cell("no_evidence")
_NO_ALLELE_VALUES = ("", "nan", "-")


@dataclass(frozen=True)
class SampleInfo:
    """What the summary says of one sample (as its text)."""

    status: str = ""
    reason: str = ""
    tumour_type: str = ""
    alleles: str = ""
    report: str = ""
    has_alleles_column: bool = False

    @property
    def failed(self) -> bool:
        return sample_failed(self.status)

    @property
    def no_allele(self) -> bool:
        """Annotated, and none of its ERBB2 alleles decides verdicts (none called, or all set
        aside); unknown (False) when the summary has no `alleles` column."""
        return (
            self.has_alleles_column
            and not self.failed
            and self.alleles.strip() in _NO_ALLELE_VALUES
        )


class VerdictGrid:
    """The batch's sample x drug verdicts from one pass over the summary and verdict rows.

    A verdict row is kept as a small number per (sample, drug): the index of its distinct
    (verdict, tier, context, reason) in a shared list, so a 10,000-sample batch with ~25 drugs
    holds a few MB whatever the length of its reasons. The last row for a cell wins.
    """

    def __init__(self) -> None:
        self.info: dict[str, SampleInfo] = {}
        self.kinds: dict[str, str] = {}
        self.counts: Counter[str] = Counter()  # verdict rows per verdict text
        self.kb_pairs: set[tuple[str, str]] = set()
        self._drug_ids: dict[str, int] = {}
        self._key_ids: dict[tuple[str, str, str, str], int] = {}
        self.keys: list[tuple[str, str, str, str]] = []
        self._cells: dict[str, dict[int, int]] = {}

    def add_summary(self, row: Row) -> None:
        sample = str(row.get("sample", "") or "")
        if sample in ("", "nan"):
            return
        self.info[sample] = SampleInfo(
            str(row.get("status", "") or ""),
            str(row.get("reason", "") or ""),
            str(row.get("tumour_type", "") or ""),
            str(row.get("alleles", "") or ""),
            str(row.get("report", "") or ""),
            "alleles" in row,
        )
        version, digest = str(row.get("kb_version", "") or ""), str(row.get("kb_hash", "") or "")
        if version or digest:
            self.kb_pairs.add((version, digest))

    def add_verdict(self, row: Row) -> None:
        sample, drug = str(row.get("sample", "") or ""), str(row.get("drug", "") or "")
        verdict = str(row.get("verdict", "") or "")
        self.counts[verdict] += 1
        version, digest = str(row.get("kb_version", "") or ""), str(row.get("kb_hash", "") or "")
        if version or digest:
            self.kb_pairs.add((version, digest))
        kind = str(row.get("drug_kind", "") or "").strip()
        if kind and drug:
            self.kinds[drug] = kind
        if not drug or not sample:
            return
        key = (
            vocab.state_of(verdict),
            str(row.get("amp_tier", "") or "").strip(),
            str(row.get("context", "") or "").strip(),
            str(row.get("reason", "") or ""),
        )
        key_id = self._key_ids.get(key)
        if key_id is None:
            key_id = self._key_ids[key] = len(self.keys)
            self.keys.append(key)
        drug_id = self._drug_ids.setdefault(drug, len(self._drug_ids))
        self._cells.setdefault(sample, {})[drug_id] = key_id

    @classmethod
    def of(cls, verdicts: Any, summary: Any = None) -> VerdictGrid:
        grid = cls()
        for row in records(summary):
            grid.add_summary(row)
        for row in records(verdicts):
            grid.add_verdict(row)
        return grid

    @property
    def samples(self) -> list[str]:
        """Every sample of the summary and of the verdict rows, sorted."""
        return sorted(set(self.info) | set(self._cells))

    @property
    def drugs(self) -> list[str]:
        """Every drug with a verdict row, sorted by name."""
        return sorted(self._drug_ids)

    def groups(self, drug_kinds: Mapping[str, str] | None = None) -> list[tuple[str, list[str]]]:
        """The drugs by group (vocab.order_drugs), kinds from the rows, else `drug_kinds`."""
        kinds = {**(drug_kinds or {}), **self.kinds}
        return vocab.order_drugs(self._drug_ids, kinds)

    def failed(self, sample: str) -> bool:
        info = self.info.get(sample)
        return info is not None and info.failed

    def row_key(self, sample: str, drug: str) -> tuple[str, str, str, str] | None:
        """(state, tier, context, reason) of the sample's row for the drug (None: no row)."""
        drug_id = self._drug_ids.get(drug)
        key_id = self._cells.get(sample, {}).get(drug_id, -1) if drug_id is not None else -1
        return self.keys[key_id] if key_id >= 0 else None

    def cell(self, sample: str, drug: str) -> Cell:
        """What the grid shows: failed samples `failed` everywhere (their rows ignored); a drug
        without a row has no evidence; a sample with no ERBB2 allele that decides verdicts has
        `no_allele` where it has no evidence."""
        info = self.info.get(sample)
        if info is not None and info.failed:
            return Cell(vocab.FAILED)
        key = self.row_key(sample, drug)
        cell = _EMPTY if key is None else Cell(key[0], key[1], key[2])
        if cell.state == "no_evidence" and info is not None and info.no_allele:
            return Cell(vocab.NO_ALLELE)
        return cell


def verdict_cells(
    verdicts: Any, summary: Any = None
) -> tuple[list[str], list[str], dict[tuple[str, str], Cell]]:
    """(samples, drugs, cells) of the heatmap: every sample of the summary and the verdict rows,
    every drug with a verdict row (by name), and each (sample, drug)'s Cell (VerdictGrid.cell)."""
    grid = verdicts if isinstance(verdicts, VerdictGrid) else VerdictGrid.of(verdicts, summary)
    samples, drugs = grid.samples, grid.drugs
    return samples, drugs, {(s, d): grid.cell(s, d) for s in samples for d in drugs}


def _palette() -> list[tuple[str, str]]:
    keys = [(v, t) for v in vocab.WITH_EVIDENCE for t in vocab.TIERS]
    return [*keys, ("no_evidence", ""), (vocab.NO_ALLELE, ""), (vocab.FAILED, "")]


def _key(cell: Cell) -> tuple[str, str]:
    if cell.state in vocab.WITH_EVIDENCE:
        return (cell.state, "II" if cell.tier == "II" else "I")
    return (cell.state, "")


def tally_text(cells: Iterable[Cell]) -> str:
    """A drug's row tally: samples per verdict with evidence, and of those how many at tier I
    ('S 3 (1 I)  R 1 (1 I)'); verdicts no sample has are left out, '-' when none has any."""
    counts = {v: [0, 0] for v in vocab.WITH_EVIDENCE}
    for cell in cells:
        if cell.state in counts:
            counts[cell.state][0] += 1
            counts[cell.state][1] += cell.tier == "I"
    parts = []
    for verdict, (n, tier_one) in counts.items():
        letter = vocab.STYLE[verdict].letter
        if n:
            parts.append(f"{letter} {n} ({tier_one} I)")
    return "  ".join(parts) or "-"


TALLY_NOTE = (
    "Right of each row: samples with each verdict for the drug, and in brackets how many of them "
    "are tier I; samples without evidence, without an ERBB2 allele or failed are not counted."
)
TALLY_HEADER = "samples per verdict (tier I)"


def png_bytes(rows: Sequence[bytes], palette: Sequence[str]) -> bytes:
    """An 8-bit palette PNG (zlib + struct): each row of `rows` one line of pixels, each byte an
    index into `palette` ('#RRGGBB'). Deterministic (no time or text chunks)."""
    height, width = len(rows), len(rows[0]) if rows else 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    colours = b"".join(bytes.fromhex(c.lstrip("#")) for c in palette)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(b"\x00" + row) for row in rows) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", colours)
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )


# Geometry of the heatmap, in SVG px
_H_ROW = 18  # one drug's row
_H_GROUP = 16  # room for a group's name above its rows
_H_COL = 18  # one named sample's column
_H_GRID = 720  # the grid's width when samples are not named
_H_CHAR = 5.6  # one character of 9-px text
_H_LEGEND_COL = 130  # one verdict's legend column
_H_LEGEND_WIDTH = 4 * _H_LEGEND_COL + 290


def _legend_notes(width: float) -> list[str]:
    """The legend's lines of text (tiers, context marks, tallies), wrapped to the figure."""
    marks = "; ".join(
        f"{mark} {vocab.CONTEXT_LABELS[c]}" for c, mark in vocab.CONTEXT_MARKS.items() if mark
    )
    paragraphs = [
        "Colour: the verdict; full colour tier I (level A/B evidence in this tumour type), lighter "
        "tier II (level C/D), AMP/ASCO/CAP 2017.",
        f"Mark after the letter, where the deciding evidence comes from: {marks}; no mark: this "
        "tumour type or pan-cancer.",
        TALLY_NOTE,
    ]
    chars = max(int((width - 24) / 5.0), 40)
    return [line for p in paragraphs for line in textwrap.wrap(p, chars)]


def _heatmap_legend(x0: float, y0: float, notes: list[str], *, show_failed: bool) -> list[str]:
    """Verdict x tier swatches (a column per verdict, tier I above tier II), the other states,
    the context marks and what the row tallies count."""
    parts = []
    for k, verdict in enumerate(vocab.WITH_EVIDENCE):
        style = vocab.STYLE[verdict]
        x = x0 + k * _H_LEGEND_COL
        parts.append(_text(x, y0, f"{style.letter}  {style.label}", 9, extra=' font-weight="bold"'))
        for j, tier in enumerate(vocab.TIERS):
            y = y0 + 8 + j * 16
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="16" height="11" '
                f'fill="{vocab.fill(verdict, tier)}" stroke="#999999" stroke-width="0.6"/>'
            )
            parts.append(_text(x + 22, y + 9, f"tier {tier}", 9))
    x = x0 + 4 * _H_LEGEND_COL
    parts.append(_text(x, y0, "no verdict", 9, extra=' font-weight="bold"'))
    states = ["no_evidence", vocab.NO_ALLELE] + ([vocab.FAILED] if show_failed else [])
    for j, state in enumerate(states):
        y = y0 + 8 + j * 16
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="16" height="11" fill="{vocab.fill(state)}" '
            'stroke="#999999" stroke-width="0.6"/>'
        )
        parts.append(_text(x + 22, y + 9, vocab.STYLE[state].label, 9))
    y = y0 + 8 + 3 * 16 + 10
    for line in notes:
        parts.append(_text(x0, y, line, 9, extra=' fill="#222222"'))
        y += 13
    return parts


def verdict_heatmap(
    verdicts: Any,
    out_path: str | os.PathLike[str],
    *,
    summary: Any = None,
    title: str | None = None,
    drug_kinds: Mapping[str, str] | None = None,
) -> Path:
    """Draw the sample x drug verdicts as a grid (a row per drug, a column per sample), as SVG.

    verdicts: the verdict rows (mappings or a DataFrame) with the summary rows in `summary`, or
    a VerdictGrid already filled from both. Each cell's colour is the verdict (vocab.STYLE), full
    for AMP/ASCO/CAP tier I and a lighter tint of the same hue for tier II; its letters are the
    verdict and a mark for the tumour-type context of the deciding evidence (* another tumour
    type, † a subtype only, ? tumour type not given). Drugs are grouped (TKIs, combinations,
    antibodies and ADCs, other) by their kind (verdicts.tsv `drug_kind`, else `drug_kinds`). A
    sample with no ERBB2 allele that decides verdicts is white ('no ERBB2 allele'), apart from
    grey 'no evidence'; a failed sample is a dark grey column. The right margin counts, per drug,
    the samples per verdict and how many are tier I; the legend says so. Up to
    MAX_LABELLED_SAMPLES samples get a named column each, sorted by name, as vector cells with
    their letters; beyond that the grid keeps its width, columns are sorted by verdict pattern
    (most actionable first) without names or letters, each drug group one embedded palette PNG
    with a pixel per sample, and the figure says where the names are.
    """
    grid = verdicts if isinstance(verdicts, VerdictGrid) else VerdictGrid.of(verdicts, summary)
    samples = grid.samples
    groups = grid.groups(drug_kinds)
    ordered = [d for _, members in groups for d in members]
    failed = [s for s in samples if grid.failed(s)]
    n_samples, n_drugs = len(samples), len(ordered)
    labelled = n_samples <= MAX_LABELLED_SAMPLES
    palette = _palette()
    code = {key: i for i, key in enumerate(palette)}

    # one pass over the samples: each one's codes, the drugs' tallies, the patterns (unnamed)
    patterns: Counter[bytes] = Counter()
    named: list[list[Cell]] = []
    tallies_n = {d: {v: [0, 0] for v in vocab.WITH_EVIDENCE} for d in ordered}
    for sample in samples:
        cells = [grid.cell(sample, d) for d in ordered]
        for drug, cell in zip(ordered, cells, strict=True):
            if cell.state in vocab.WITH_EVIDENCE:
                counts = tallies_n[drug][cell.state]
                counts[0] += 1
                counts[1] += cell.tier == "I"
        if labelled:
            named.append(cells)
        else:
            patterns[bytes(code[_key(c)] for c in cells)] += 1
    tallies = {}
    for drug in ordered:
        words = [
            f"{vocab.STYLE[v].letter} {n} ({one} I)" for v, (n, one) in tallies_n[drug].items() if n
        ]
        tallies[drug] = "  ".join(words) or "-"

    heading = title or "Verdict per sample and drug, with its strength"
    longest_drug = max((len(d) for d in ordered), default=10)
    left = 16 + _H_CHAR * max(longest_drug, 20)
    right = 16 + 5.0 * max([len(TALLY_HEADER), *map(len, tallies.values())])
    grid_w = _H_COL * max(n_samples, 1) if labelled else _H_GRID
    width = max(_H_LEGEND_WIDTH + 20, left + grid_w + right)
    notes = _legend_notes(width)
    top = 48
    grid_h = _H_ROW * max(n_drugs, 1) + _H_GROUP * len(groups)
    longest_sample = max((len(s) for s in samples), default=4) if labelled else 0
    under = (12 + 5.4 * longest_sample) if labelled else 26
    legend_h = 8 + 3 * 16 + 10 + 13 * len(notes) + 14
    height = top + max(grid_h, 40) + under + legend_h + 16

    parts = [
        _svg_open(width, height, heading),
        _text(10, 18, heading, 13),
        _text(10, 36, f"{n_samples} samples x {n_drugs} drugs", 11),
    ]
    if n_samples == 0 or n_drugs == 0:
        message = "No verdicts in this batch" + (
            f" ({len(failed)} failed samples)" if failed else ""
        )
        parts.append(_text(width / 2, top + 30, message, 14, "middle"))
    else:
        col_w = grid_w / n_samples
        y = float(top)
        image_rows: list[tuple[float, list[bytes]]] = []
        sorted_patterns = sorted(patterns.items())
        for name, members in groups:
            y += _H_GROUP
            parts.append(_text(left - 6, y - 4, name, 9.5, "end", ' font-weight="bold"'))
            parts.append(
                f'<line x1="{_num(left)}" y1="{_num(y - 1.5)}" x2="{_num(left + grid_w)}" '
                f'y2="{_num(y - 1.5)}" stroke="#444444" stroke-width="0.8"/>'
            )
            rows: list[bytes] = []
            for drug in members:
                k = ordered.index(drug)
                cy = y + _H_ROW / 2
                parts.append(_text(left - 6, cy + 3.2, drug, 9, "end"))
                parts.append(
                    _text(left + grid_w + 6, cy + 3, tallies[drug], 8, extra=' fill="#333333"')
                )
                if labelled:
                    for j, cells in enumerate(named):
                        cell = cells[k]
                        x = left + j * col_w
                        parts.append(
                            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(col_w)}" '
                            f'height="{_H_ROW}" fill="{vocab.fill(*_key(cell))}" '
                            'stroke="#FFFFFF" stroke-width="1"/>'
                        )
                        text = vocab.cell_text(cell.state, cell.context)
                        if cell.state == vocab.NO_ALLELE:
                            text = "\u2013"  # en dash: nothing to assess
                        if text:
                            parts.append(
                                _text(
                                    x + col_w / 2,
                                    cy + 3,
                                    text,
                                    7 if len(text) > 2 else 8,
                                    "middle",
                                    f' fill="{vocab.text_colour(cell.state, cell.tier)}" '
                                    'font-weight="bold"',
                                )
                            )
                else:
                    rows.append(b"".join(bytes(p[k : k + 1]) * n for p, n in sorted_patterns))
                y += _H_ROW
            if rows:
                image_rows.append((y - _H_ROW * len(members), rows))
        colours = [vocab.fill(state, tier) for state, tier in palette]
        for iy, rows in image_rows:
            data = base64.b64encode(png_bytes(rows, colours)).decode("ascii")
            parts.append(
                f'<image x="{_num(left)}" y="{_num(iy)}" width="{_num(grid_w)}" '
                f'height="{_H_ROW * len(rows)}" preserveAspectRatio="none" '
                'style="image-rendering:pixelated;image-rendering:crisp-edges" '
                f'xlink:href="data:image/png;base64,{data}"/>'
            )
        # a thin frame, so white "no ERBB2 allele" cells read as part of the grid
        parts.append(
            f'<rect x="{_num(left)}" y="{top + _H_GROUP - 1.5}" width="{_num(grid_w)}" '
            f'height="{_num(y - top - _H_GROUP + 1.5)}" fill="none" stroke="#BBBBBB" '
            'stroke-width="0.6"/>'
        )
        parts.append(
            _text(
                left + grid_w + 6,
                top + _H_GROUP / 2 + 2,
                TALLY_HEADER,
                8,
                extra=' font-style="italic" fill="#333333"',
            )
        )
        if labelled:
            for j, sample in enumerate(samples):
                sx, sy = left + j * col_w + col_w / 2 + 3, y + 6
                parts.append(
                    _text(
                        sx, sy, sample, 9, "end", f' transform="rotate(-90 {_num(sx)} {_num(sy)})"'
                    )
                )
        else:
            parts.append(
                _text(
                    left,
                    y + 16,
                    f"{n_samples} samples, sorted by verdict pattern; colour and shade only "
                    "(names, letters and context marks: the verdict page and summary.xlsx)",
                    9,
                )
            )
    legend_y = height - legend_h
    parts += _heatmap_legend(12, legend_y + 14, notes, show_failed=bool(failed))
    parts.append("</svg>\n")
    svg = "".join(parts)
    if "xlink:href" in svg:
        svg = svg.replace(
            'xmlns="http://www.w3.org/2000/svg"',
            'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"',
            1,
        )
    return _write_svg(out_path, [svg])
