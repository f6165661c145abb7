"""Batch figures: a lollipop of the batch's ERBB2 alleles on the NP_004439.2 domain map, and a
sample x drug verdict heatmap.

Both take the batch tables as pandas DataFrames (results/batch/alleles.tsv and verdicts.tsv, which
the summarize job gathers from the shards' tables; report_html.py reads them and calls these) and
write SVG or PNG by the suffix of the output path. Output is byte-identical between runs on the same inputs and library versions: no
dates, a fixed SVG id salt, fonts from matplotlib's own DejaVu, and figures built on
matplotlib.figure.Figure directly (no pyplot global state, no GUI backend).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from .. import PROTEIN
from . import vocab

PROTEIN_LENGTH = 1255  # NP_004439.2

# The vocabulary (names, letters, colours) lives in vocab.py; these names stay for callers.
VERDICTS = vocab.VERDICTS
VERDICT_COLOURS = {s: vocab.STYLE[s].colour for s in vocab.STATES}
VERDICT_LETTERS = {s: vocab.STYLE[s].letter for s in vocab.STATES}
VERDICT_LABELS = {s: vocab.STYLE[s].label for s in vocab.STATES}

# Above this many samples a row per sample is too thin to carry a readable name: the heatmap
# drops sample tick labels and sorts rows by verdict pattern, so it reads as a batch overview;
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

DOMAIN_COLOURS = (
    "#A6CEE3",
    "#B2DF8A",
    "#FDBF6F",
    "#CAB2D6",
    "#FB9A99",
    "#FFFF99",
    "#8DD3C7",
    "#BEBADA",
    "#D9D9D9",
    "#CCEBC5",
)

# One label per distinct residue would be unreadable in a 500-sample batch; recurrent residues
# are labelled, and every residue when the batch has this few.
LABEL_ALL_UP_TO = 10
MAX_LABELS = 15

_RC: Any = {  # matplotlib types rcParams keys as Literal names
    "svg.hashsalt": "erbb2-tki",
    "svg.fonttype": "none",  # text stays text: searchable and readable in the HTML report
    "font.family": "DejaVu Sans",
    "path.simplify": True,
}
_HGVSP_START = re.compile(r"^(?:p\.)?\(?(?:[A-Z][a-z]{2}|[A-Z*])?(\d+)")


@dataclass(frozen=True)
class Domain:
    """A named span of NP_004439.2 (1-based, inclusive)."""

    name: str
    start: int
    end: int
    source: str = ""


def protein_start(row: pd.Series | dict[str, Any]) -> int | None:
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


def _lanes(domains: Sequence[Domain]) -> list[int]:
    """Greedy lane per domain so overlapping spans (e.g. a kinase domain inside the
    intracellular region) sit one above the other instead of hiding each other."""
    lane_ends: list[int] = []
    lanes = []
    for d in domains:
        for i, end in enumerate(lane_ends):
            if d.start > end:
                lane_ends[i] = d.end
                lanes.append(i)
                break
        else:
            lane_ends.append(d.end)
            lanes.append(len(lane_ends) - 1)
    return lanes


def _usable_alleles(alleles: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The alleles that count (those that decide verdicts), and how many rows were left out."""
    if alleles.empty:
        return alleles, 0
    if "used_for_verdict" in alleles.columns:
        keep = alleles["used_for_verdict"].astype(str).str.strip().eq("yes")
    elif "filter" in alleles.columns:
        keep = alleles["filter"].astype(str).str.strip().isin(["PASS", ".", "", "nan"])
    else:
        keep = pd.Series(True, index=alleles.index)
    return alleles[keep], int((~keep).sum())


def residue_counts(alleles: pd.DataFrame) -> pd.DataFrame:
    """One row per residue carrying a protein-changing allele in the batch.

    Columns: residue, n_samples (distinct samples with any allele at that residue), label
    (alleles at the residue, most frequent first, with sample counts), consequence_class (of the
    most frequent allele; ties go to the more severe class), oncogenic (any allele there is).
    """
    columns = ["residue", "n_samples", "label", "consequence_class", "oncogenic"]
    if alleles.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for row in alleles.to_dict("records"):  # (iterrows builds a Series per row: ~10x slower)
        residue = protein_start(row)
        if residue is None:
            continue
        name = str(row.get("hgvsp_short", "") or "").removeprefix("p.") or str(row.get("hgvsc", ""))
        rows.append(
            {
                "sample": str(row["sample"]),
                "residue": min(max(residue, 1), PROTEIN_LENGTH),
                "allele": name,
                "consequence_class": consequence_class(str(row.get("consequence", ""))),
                "oncogenic": is_oncogenic(str(row.get("oncogenicity", ""))),
            }
        )
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    severity = {c: i for i, c in enumerate(CONSEQUENCE_CLASSES)}
    out = []
    for residue, group in frame.groupby("residue", sort=True):
        per_allele = (
            group.groupby("allele")
            .agg(
                n=("sample", "nunique"),
                consequence_class=("consequence_class", "first"),
                oncogenic=("oncogenic", "any"),
            )
            .reset_index()
        )
        per_allele["severity"] = per_allele["consequence_class"].map(severity)
        per_allele = per_allele.sort_values(
            ["n", "severity", "allele"], ascending=[False, True, True]
        )
        label = "/".join(
            f"{a}" + (f" ({n})" if len(per_allele) > 1 else "")
            for a, n in zip(per_allele["allele"], per_allele["n"], strict=True)
        )
        out.append(
            {
                "residue": int(residue),
                "n_samples": int(group["sample"].nunique()),
                "label": label,
                "consequence_class": per_allele["consequence_class"].iloc[0],
                "oncogenic": bool(per_allele["oncogenic"].any()),
            }
        )
    return pd.DataFrame(out, columns=columns)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write beside the target, then rename: a reader sees the old file or the new, never half.

    The temporary file is opened normally (not mkstemp's 0600) so the result has the same
    permissions as any other output under the user's umask, readable by the rest of the group.
    """
    from .. import fileio

    return fileio.atomic_write_bytes(path, data)


def _save(fig: Figure, out_path: str | os.PathLike[str]) -> Path:
    """Write atomically; the format follows the suffix (.svg, .png, .pdf)."""
    target = Path(out_path)
    fmt = target.suffix.lstrip(".").lower() or "svg"
    metadata: dict[str, Any] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format=fmt, metadata=metadata or None, dpi=150)
    return atomic_write_bytes(target, buffer.getvalue())


def _new_figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def lollipop(
    alleles: pd.DataFrame,
    transcript: Any,
    out_path: str | os.PathLike[str],
    *,
    n_samples: int | None = None,
    title: str | None = None,
) -> Path:
    """Draw the batch's ERBB2 alleles as stems on the NP_004439.2 domain map.

    alleles: the gathered alleles tables (one row per sample x ALT allele). Only alleles that
    decide verdicts are drawn (used_for_verdict == "yes" when that column exists, else FILTER
    PASS or missing); the figure states how many rows were left out. Stem height is the number
    of samples with an allele at that residue; colour is the consequence class of the most
    frequent allele there; a black ring marks residues with an allele the knowledge base calls
    oncogenic. transcript: the loaded transcript (its .domains: (name, start, end, source)), or
    that list itself. n_samples: batch size for the title (samples without alleles included).
    """
    domains = _domains(transcript)
    used, left_out = _usable_alleles(alleles)
    counts = residue_counts(used)
    off_protein = 0
    if not used.empty:
        off_protein = sum(protein_start(r) is None for r in used.to_dict("records"))
    carriers = int(used["sample"].nunique()) if not used.empty else 0

    with matplotlib.rc_context(_RC):
        fig = _new_figure(12, 5.2)
        grid = fig.add_gridspec(2, 1, height_ratios=[4.2, 1.0])
        ax = fig.add_subplot(grid[0])
        track = fig.add_subplot(grid[1], sharex=ax)

        heading = title or f"ERBB2 alleles in this batch on {PROTEIN} ({PROTEIN_LENGTH} aa)"
        batch = f"{n_samples} samples, " if n_samples is not None else ""
        notes = [f"{batch}{carriers} with at least one allele drawn"]
        if left_out:
            notes.append(f"{left_out} allele row(s) not drawn (filtered, not in the tumour, etc.)")
        if off_protein:
            notes.append(f"{off_protein} allele row(s) off the protein (intronic/UTR)")
        ax.set_title(f"{heading}\n" + "; ".join(notes), fontsize=11, loc="left")
        ax.set_xlim(0, PROTEIN_LENGTH + 1)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylabel("samples with an allele at the residue")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelbottom=False)

        if counts.empty:
            ax.set_ylim(0, 1)
            ax.set_yticks([])
            ax.set_ylabel("")
            ax.spines["left"].set_visible(False)
            message = "No ERBB2 alleles on the protein in this batch"
            if alleles.empty:
                message = "No ERBB2 calls in this batch"
            ax.text(
                0.5,
                0.55,
                message,
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=14,
                color="#333333",
            )
        else:
            _draw_stems(ax, counts)

        _draw_domains(track, domains)
        track.set_xlabel(f"residue of {PROTEIN}")
        _save(fig, out_path)
    return Path(out_path)


# Geometry of the lollipop's upper axis, for placing labels in points: about 9.8 x 3.4 inches
# (12-inch figure less the y label and the consequence legend).
_AXIS_WIDTH_PT = 9.8 * 72
_AXIS_HEIGHT_PT = 3.4 * 72
_LABEL_LINE_PT = 10.0  # one line of 8-pt text, rotated: its width on the x axis
_LABEL_CHAR_PT = 5.0  # one character of 8-pt text, rotated: its height on the y axis


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


def _draw_stems(ax: Any, counts: pd.DataFrame) -> None:
    top = int(counts["n_samples"].max())
    for _, row in counts.iterrows():
        x, y = row["residue"], row["n_samples"]
        colour = CONSEQUENCE_COLOURS[row["consequence_class"]]
        ax.vlines(x, 0, y, color="#777777", linewidth=1.0, zorder=1)
        ax.scatter(
            [x],
            [y],
            s=60,
            color=colour,
            edgecolors="black" if row["oncogenic"] else "white",
            linewidths=1.6 if row["oncogenic"] else 0.8,
            zorder=3,
        )
    if len(counts) <= LABEL_ALL_UP_TO:
        labelled = counts
    else:
        labelled = counts[counts["n_samples"] >= 2]
        labelled = labelled.sort_values(["n_samples", "residue"], ascending=[False, True]).head(
            MAX_LABELS
        )
    labelled = labelled.sort_values("residue")
    # Labels stand upright on one line above the highest stem, fanned out sideways so that
    # neighbours (L755S next to Y772_A775dup) never print over each other, each joined to its
    # residue by a thin leader line.
    lines = [str(label).split("/") for label in labelled["label"]]
    residues_per_pt = (PROTEIN_LENGTH + 1) / _AXIS_WIDTH_PT
    widths = [(len(block) * _LABEL_LINE_PT + 3) * residues_per_pt for block in lines]
    placed = spread_labels(list(labelled["residue"]), widths, 0, PROTEIN_LENGTH + 1)
    longest = max((len(line) for block in lines for line in block), default=0)
    label_pt = min(longest * _LABEL_CHAR_PT + 8, _AXIS_HEIGHT_PT * 0.55)
    baseline = top * 1.1 + 0.2
    upper = (baseline + 0.1) / (1 - label_pt / _AXIS_HEIGHT_PT) if lines else top * 1.2 + 0.5
    ax.set_ylim(0, max(upper, top * 1.2 + 0.5))
    for (_, row), block, x in zip(labelled.iterrows(), lines, placed, strict=True):
        ax.plot(
            [row["residue"], row["residue"], x],
            [row["n_samples"], baseline - 0.06 * top, baseline],
            color="#999999",
            linewidth=0.5,
            zorder=0,
        )
        ax.text(
            x,
            baseline,
            "\n".join(block),
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=8,
            linespacing=1.1,
        )
    present = [c for c in CONSEQUENCE_CLASSES if c in set(counts["consequence_class"])]
    handles = [Patch(facecolor=CONSEQUENCE_COLOURS[c], edgecolor="white", label=c) for c in present]
    if counts["oncogenic"].any():
        handles.append(
            Patch(facecolor="white", edgecolor="black", linewidth=1.6, label="oncogenic (KB)")
        )
    # right of the axes: the label row above the stems can reach any residue
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        title="consequence",
        title_fontsize=8,
        alignment="left",
    )


_ABBREVIATIONS = (
    ("extracellular domain", "ECD"),
    ("extracellular", "ECD"),
    ("transmembrane", "TM"),
    ("juxtamembrane", "JM"),
    ("signal peptide", "SP"),
    ("kinase domain", "kinase"),
    ("C-terminal tail", "C-tail"),
)


def _box_label(name: str, width: int) -> str:
    """The domain's name if it fits inside its box, else a common abbreviation that fits, else ''
    (the legend below the track always has the full name and span)."""

    # ~8 residues per character at 7 pt on a 12-inch axis
    def fits(text: str) -> bool:
        return width >= 8 * len(text) + 10

    if fits(name):
        return name
    short = name
    for long, abbreviation in _ABBREVIATIONS:
        short = short.replace(long, abbreviation)
    return short if fits(short) else ""


def _draw_domains(track: Any, domains: Sequence[Domain]) -> None:
    lanes = _lanes(domains)
    n_lanes = max(lanes, default=0) + 1
    track.set_ylim(-0.1, n_lanes + 0.1)
    track.set_yticks([])
    track.spines[["top", "right", "left"]].set_visible(False)
    # the chain itself, behind the domains, so gaps between domains read as unannotated protein
    track.add_patch(
        Rectangle(
            (1, 0.3), PROTEIN_LENGTH - 1, 0.3, facecolor="#CCCCCC", edgecolor="none", zorder=0
        )
    )
    handles = []
    for i, (domain, lane) in enumerate(zip(domains, lanes, strict=True)):
        colour = DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)]
        width = domain.end - domain.start + 1
        track.add_patch(
            Rectangle(
                (domain.start, lane + 0.05),
                width,
                0.8,
                facecolor=colour,
                edgecolor="#444444",
                linewidth=0.6,
            )
        )
        label = _box_label(domain.name, width)
        if label:
            track.text(
                domain.start + width / 2,
                lane + 0.45,
                label,
                ha="center",
                va="center",
                fontsize=7,
            )
        handles.append(
            Patch(
                facecolor=colour,
                edgecolor="#444444",
                label=f"{domain.name} {domain.start}-{domain.end}",
            )
        )
    if handles:
        track.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.55),
            ncols=min(4, len(handles)),
            fontsize=7,
            frameon=False,
        )
    else:
        track.text(
            PROTEIN_LENGTH / 2, 0.3, "no domain map loaded", ha="center", va="center", fontsize=8
        )


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: the state (a verdict, no_allele or failed), the AMP tier and the
    tumour-type context of the evidence that decided it."""

    state: str
    tier: str = ""
    context: str = ""


_EMPTY = Cell("no_evidence")


def _summary_sets(summary: pd.DataFrame | None) -> tuple[list[str], list[str], set[str]]:
    """(failed, annotated, without an ERBB2 allele) samples from the batch summary."""
    if summary is None or summary.empty or "status" not in summary.columns:
        return [], [], set()
    is_failed = summary["status"].map(sample_failed)
    failed = sorted(summary.loc[is_failed, "sample"].astype(str))
    annotated = sorted(summary.loc[~is_failed, "sample"].astype(str))
    no_allele: set[str] = set()
    if "alleles" in summary.columns:  # the alleles that decide verdicts; empty: none called or
        empty = summary["alleles"].astype(str).str.strip().isin(["", "nan", "-"])  # all set aside
        no_allele = set(summary.loc[~is_failed & empty, "sample"].astype(str))
    return failed, annotated, no_allele


def verdict_cells(
    verdicts: pd.DataFrame, summary: pd.DataFrame | None = None
) -> tuple[list[str], list[str], dict[tuple[str, str], Cell]]:
    """(samples, drugs, cells) of the heatmap: every annotated and failed sample, every drug with
    a verdict row, and each (sample, drug)'s Cell. A drug without a row for an annotated sample has
    no evidence; an annotated sample with no ERBB2 allele that decides verdicts has `no_allele`
    where it has no evidence; a failed sample is `failed` everywhere (its leftover rows ignored).
    The last row for a cell wins."""
    failed, annotated, no_allele = _summary_sets(summary)
    drugs: list[str] = []
    samples: set[str] = set(annotated) | set(failed)
    cells: dict[tuple[str, str], Cell] = {}
    if not verdicts.empty:
        drugs = sorted(verdicts["drug"].astype(str).unique())
        samples |= set(verdicts["sample"].astype(str))
        n = len(verdicts)
        empty = [""] * n
        columns = [
            verdicts[c].astype(str).tolist() if c in verdicts.columns else empty
            for c in ("sample", "drug", "verdict", "amp_tier", "context")
        ]
        for sample, drug, verdict, tier, context in zip(*columns, strict=True):
            cells[(sample, drug)] = Cell(vocab.state_of(verdict), tier.strip(), context.strip())
    failed_set = set(failed)
    out: dict[tuple[str, str], Cell] = {}
    for sample in samples:
        for drug in drugs:
            if sample in failed_set:
                out[(sample, drug)] = Cell(vocab.FAILED)
                continue
            cell = cells.get((sample, drug), _EMPTY)
            if cell.state == "no_evidence" and sample in no_allele:
                cell = Cell(vocab.NO_ALLELE)
            out[(sample, drug)] = cell
    return sorted(samples), drugs, out


def _palette() -> list[tuple[str, str]]:
    keys = [(v, t) for v in vocab.WITH_EVIDENCE for t in vocab.TIERS]
    return [*keys, ("no_evidence", ""), (vocab.NO_ALLELE, ""), (vocab.FAILED, "")]


def _key(cell: Cell) -> tuple[str, str]:
    if cell.state in vocab.WITH_EVIDENCE:
        return (cell.state, "II" if cell.tier == "II" else "I")
    return (cell.state, "")


def _drug_kinds(verdicts: pd.DataFrame, drug_kinds: Mapping[str, str] | None) -> dict[str, str]:
    kinds = dict(drug_kinds or {})
    if not verdicts.empty and "drug_kind" in verdicts.columns:
        for drug, kind in zip(
            verdicts["drug"].astype(str), verdicts["drug_kind"].astype(str), strict=True
        ):
            if kind.strip():
                kinds[drug] = kind.strip()
    return kinds


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


def verdict_heatmap(
    verdicts: pd.DataFrame,
    out_path: str | os.PathLike[str],
    *,
    summary: pd.DataFrame | None = None,
    title: str | None = None,
    drug_kinds: Mapping[str, str] | None = None,
) -> Path:
    """Draw the sample x drug verdicts as a grid (a row per drug, a column per sample).

    Each cell's colour is the verdict (vocab.STYLE), full for AMP/ASCO/CAP tier I and a lighter
    tint of the same hue for tier II; its letters are the verdict and a mark for the tumour-type
    context of the deciding evidence (* another tumour type, † a subtype only, ? tumour type not
    given). Drugs are grouped (TKIs, combinations, antibodies and ADCs, other) by their kind
    (verdicts.tsv `drug_kind`, else `drug_kinds`). A sample with no ERBB2 allele that decides
    verdicts is white ('no ERBB2 allele'), apart from grey 'no evidence'; a failed sample is a dark
    grey column. The right margin counts, per drug, the samples per verdict and how many are tier
    I; the legend says so. Up to MAX_LABELLED_SAMPLES samples get a named column each, sorted by
    name; beyond that the figure stops growing, columns are sorted by verdict pattern (most
    actionable first) without names, and the figure says where the names are.
    """
    samples, drugs, cells = verdict_cells(verdicts, summary)
    failed = [s for s in samples if drugs and cells[(s, drugs[0])].state == vocab.FAILED]
    if summary is not None and not drugs:
        failed = _summary_sets(summary)[0]
    groups = vocab.order_drugs(drugs, _drug_kinds(verdicts, drug_kinds))
    ordered = [d for _, members in groups for d in members]
    n_samples, n_drugs = len(samples), len(ordered)
    labelled = n_samples <= MAX_LABELLED_SAMPLES
    palette = _palette()
    code = {key: i for i, key in enumerate(palette)}
    if not labelled:
        keys = {s: tuple(code[_key(cells[(s, d)])] for d in ordered) for s in samples}
        samples = sorted(samples, key=lambda s: (keys[s], s))

    tallies = {d: tally_text(cells[(s, d)] for s in samples) for d in ordered}
    # Fixed layout in inches (no constrained layout): the legend block's size is known up front.
    longest_drug = max((len(d) for d in ordered), default=10)
    left = 0.3 + 0.075 * max(longest_drug, 20)
    right = 0.3 + _CHAR_IN * max([len(TALLY_HEADER), *map(len, tallies.values())])
    col_w = 0.3 if labelled else min(0.3, 10.0 / max(n_samples, 1))
    width = max(_LEGEND_WIDTH_IN + 0.2, left + right + col_w * max(n_samples, 1))
    notes = _legend_notes(width)
    grid_h = 0.3 * (max(n_drugs, 1) + 0.9 * len(groups))
    longest_sample = max((len(s) for s in samples), default=4) if labelled else 0
    under = (0.15 + 0.085 * longest_sample) if labelled else 0.35
    legend_h = 0.95 + 0.13 * len(notes)
    top = 0.75
    height = top + max(grid_h, 0.6) + under + legend_h

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(
            left=left / width,
            right=1 - right / width,
            top=1 - top / height,
            bottom=(under + legend_h) / height,
        )
        ax = fig.add_subplot()
        heading = title or "Verdict per sample and drug, with its strength"
        ax.set_title(
            f"{heading}\n{n_samples} samples x {n_drugs} drugs", fontsize=11, loc="left", pad=10
        )
        if n_samples == 0 or n_drugs == 0:
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                "No verdicts in this batch"
                + (f" ({len(failed)} failed samples)" if failed else ""),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=13,
            )
            _save(fig, out_path)
            return Path(out_path)

        from matplotlib.colors import BoundaryNorm, ListedColormap
        from matplotlib.transforms import blended_transform_factory

        cmap = ListedColormap([vocab.fill(s, t) for s, t in palette])
        norm = BoundaryNorm([i - 0.5 for i in range(len(palette) + 1)], cmap.N)
        left_labels = blended_transform_factory(ax.transAxes, ax.transData)
        y = 0.0
        row_y: dict[str, float] = {}
        for name, members in groups:
            y += 0.9  # room for the group's name
            ax.text(
                -0.01,
                y - 0.45,
                name,
                transform=left_labels,
                ha="right",
                va="center",
                fontsize=8.5,
                fontweight="bold",
            )
            ax.axhline(y - 0.08, color="#444444", linewidth=0.6, xmin=0, xmax=1)
            data = [[code[_key(cells[(s, d)])] for s in samples] for d in members]
            ax.pcolormesh(
                range(n_samples + 1),
                [y + k for k in range(len(members) + 1)],
                data,
                cmap=cmap,
                norm=norm,
                edgecolors="#FFFFFF" if labelled else "face",
                linewidth=0.8 if labelled else 0,
                # Unlabelled (> MAX_LABELLED_SAMPLES) grids are one embedded image each: as vector
                # quads a 1,000-sample batch made a 3.5 MB SVG and took seconds to write.
                rasterized=not labelled,
            )
            for k, drug in enumerate(members):
                row_y[drug] = y + k + 0.5
            y += len(members)
        # a thin frame, so white "no ERBB2 allele" cells read as part of the grid
        ax.add_patch(
            Rectangle((0, 0.9 - 0.08), n_samples, y - 0.9 + 0.08, fill=False, ec="#BBBBBB", lw=0.5)
        )
        ax.set_xlim(0, n_samples)
        ax.set_ylim(y, 0)
        ax.set_yticks([row_y[d] for d in ordered])
        ax.set_yticklabels(ordered, fontsize=8)
        ax.tick_params(axis="both", length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.annotate(
            TALLY_HEADER,
            (1.0, 0.45),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=7,
            fontstyle="italic",
            color="#333333",
        )
        for drug in ordered:
            ax.annotate(
                tallies[drug],
                (1.0, row_y[drug]),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=7,
                color="#333333",
            )
        if labelled:
            ax.set_xticks([j + 0.5 for j in range(n_samples)])
            ax.set_xticklabels(samples, fontsize=8, rotation=90)
            for drug in ordered:
                for j, sample in enumerate(samples):
                    cell = cells[(sample, drug)]
                    text = vocab.cell_text(cell.state, cell.context)
                    if cell.state == vocab.NO_ALLELE:
                        text = "\u2013"  # en dash: nothing to assess
                    if text:
                        ax.text(
                            j + 0.5,
                            row_y[drug],
                            text,
                            ha="center",
                            va="center",
                            fontsize=6.5 if len(text) > 2 else 7,
                            color=vocab.text_colour(cell.state, cell.tier),
                            fontweight="bold",
                        )
        else:
            ax.set_xticks([])
            ax.set_xlabel(
                f"{n_samples} samples, sorted by verdict pattern; colour and shade only (names, "
                "letters and context marks: the verdict page and summary.xlsx)",
                fontsize=8,
            )
        _heatmap_legend(fig, width, height, legend_h, notes, show_failed=bool(failed))
        _save(fig, out_path)
    return Path(out_path)


_CHAR_IN = 0.062  # width of one character of 7-pt DejaVu Sans, in inches (a little generous)
_VERDICT_LEGEND_IN = 1.45  # one verdict's legend column
_LEGEND_WIDTH_IN = 4 * _VERDICT_LEGEND_IN + 3.0  # four verdicts and the other states
TALLY_HEADER = "samples per verdict (tier I)"


def _legend_notes(width: float) -> list[str]:
    """The legend's lines of text (tiers, context marks, tallies), wrapped to the figure."""
    import textwrap

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
    chars = max(int((width - 0.4) / (_CHAR_IN * 1.02)), 40)
    return [line for p in paragraphs for line in textwrap.wrap(p, chars)]


def _heatmap_legend(
    fig: Figure,
    width: float,
    height: float,
    legend_h: float,
    notes: list[str],
    *,
    show_failed: bool,
) -> None:
    """Verdict x tier swatches (a column per verdict, tier I above tier II), the other states,
    the context marks and what the row tallies count, in the block at the foot of the figure."""
    y = legend_h - 0.1  # inches from the bottom
    for k, verdict in enumerate(vocab.WITH_EVIDENCE):
        style = vocab.STYLE[verdict]
        handles = [
            Patch(facecolor=vocab.fill(verdict, t), edgecolor="#999999", label=f"tier {t}")
            for t in vocab.TIERS
        ]
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=((0.1 + k * _VERDICT_LEGEND_IN) / width, y / height),
            fontsize=7,
            title=f"{style.letter}  {style.label}",
            title_fontsize=7.5,
            alignment="left",
            frameon=False,
        )
    states = ["no_evidence", vocab.NO_ALLELE] + ([vocab.FAILED] if show_failed else [])
    fig.legend(
        handles=[
            Patch(facecolor=vocab.fill(s), edgecolor="#999999", label=vocab.STYLE[s].label)
            for s in states
        ],
        loc="upper left",
        bbox_to_anchor=((0.1 + 4 * _VERDICT_LEGEND_IN) / width, y / height),
        fontsize=7,
        title="no verdict",
        title_fontsize=7.5,
        alignment="left",
        frameon=False,
    )
    fig.text(
        0.15 / width,
        (legend_h - 0.9) / height,
        "\n".join(notes),
        ha="left",
        va="top",
        fontsize=7,
        color="#222222",
        linespacing=1.35,
    )
