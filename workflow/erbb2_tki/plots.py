"""Batch figures: a lollipop of the batch's ERBB2 alleles on the NP_004439.2 domain map, and a
sample x drug verdict heatmap.

Both take the gathered tables as pandas DataFrames (the workflow concatenates the per-sample
results/tables/{sample}.alleles.tsv and .verdicts.tsv) and write SVG or PNG by the suffix of the
output path. Output is byte-identical between runs on the same inputs and library versions: no
dates, a fixed SVG id salt, fonts from matplotlib's own DejaVu, and figures built on
matplotlib.figure.Figure directly (no pyplot global state, no GUI backend).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from . import PROTEIN

PROTEIN_LENGTH = 1255  # NP_004439.2

VERDICTS = ("sensitive", "reduced_sensitivity", "resistant", "conflicting", "no_evidence")
# Okabe-Ito colours, distinguishable with the common colour-vision deficiencies; the letter in
# each cell carries the same information for readers who cannot tell them apart.
VERDICT_COLOURS = {
    "sensitive": "#009E73",
    "reduced_sensitivity": "#E69F00",
    "resistant": "#D55E00",
    "conflicting": "#CC79A7",
    "no_evidence": "#EEEEEE",
    "failed": "#555555",
}
VERDICT_LETTERS = {
    "sensitive": "S",
    "reduced_sensitivity": "r",
    "resistant": "R",
    "conflicting": "C",
    "no_evidence": "",
}
VERDICT_LABELS = {
    "sensitive": "sensitive (S)",
    "reduced_sensitivity": "reduced sensitivity (r)",
    "resistant": "resistant (R)",
    "conflicting": "conflicting (C)",
    "no_evidence": "no evidence",
    "failed": "sample failed",
}

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

_RC = {
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
    from . import fileio

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


def _verdict_matrix(
    verdicts: pd.DataFrame, failed: Iterable[str], annotated: Iterable[str] = ()
) -> pd.DataFrame:
    """samples x drugs of verdict strings. A sample annotated without a row for a drug has
    no evidence for it; failed samples get 'failed' in every cell."""
    failed = list(failed)
    drugs: list[str] = []
    samples: set[str] = set(annotated)
    if not verdicts.empty:
        drugs = sorted(verdicts["drug"].astype(str).unique())
        samples |= set(verdicts["sample"].astype(str))
    samples_sorted = sorted(samples - set(failed))
    # One pass over the verdict rows into a dict, then the matrix in one go (setting cells one
    # at a time with .loc took ~20 s for a 1,000-sample batch). The last row for a cell wins.
    lookup: dict[tuple[str, str], str] = {}
    if not verdicts.empty:
        for sample, drug, verdict in zip(
            verdicts["sample"].astype(str),
            verdicts["drug"].astype(str),
            verdicts["verdict"].astype(str),
            strict=True,
        ):
            lookup[(sample, drug)] = verdict if verdict in VERDICTS else "no_evidence"
    # A failed sample's leftover rows do not count: failed samples are not in samples_sorted.
    matrix = pd.DataFrame(
        [[lookup.get((s, d), "no_evidence") for d in drugs] for s in samples_sorted],
        index=samples_sorted,
        columns=drugs,
        dtype=object,
    )
    if failed:
        matrix = pd.concat(
            [matrix, pd.DataFrame("failed", index=sorted(set(failed)), columns=drugs, dtype=object)]
        )
    return matrix


def verdict_heatmap(
    verdicts: pd.DataFrame,
    out_path: str | os.PathLike[str],
    *,
    summary: pd.DataFrame | None = None,
    title: str | None = None,
) -> Path:
    """Draw the sample x drug verdicts as a grid (a row per drug, a column per sample), each cell
    coloured by the verdict and lettered S/R/C, with a legend.

    Drugs run down the side because their names are long ("neratinib + fulvestrant +
    trastuzumab") and few; samples run across because there may be hundreds. verdicts: the
    gathered verdict tables (sample, drug, verdict, ...). summary: the batch summary (sample,
    status, ...); a failed sample is drawn as a grey 'failed' column, so it is never mistaken
    for one without evidence, and an annotated sample without verdict rows (no ERBB2 alleles)
    still gets its column of 'no evidence'. Up to MAX_LABELLED_SAMPLES samples get a named
    column each, sorted by name; beyond that the figure stops growing, columns are sorted by
    verdict pattern (most actionable first) without names, and the figure says where the names
    are. The right margin counts the samples per verdict for each drug.
    """
    failed: list[str] = []
    annotated: list[str] = []
    if summary is not None and not summary.empty and "status" in summary.columns:
        is_failed = summary["status"].map(sample_failed)
        failed = sorted(summary.loc[is_failed, "sample"].astype(str))
        annotated = sorted(summary.loc[~is_failed, "sample"].astype(str))
    matrix = _verdict_matrix(verdicts, failed, annotated)
    n_samples, n_drugs = matrix.shape
    labelled = n_samples <= MAX_LABELLED_SAMPLES
    if not labelled:
        rank = {
            "resistant": 0,
            "reduced_sensitivity": 1,
            "conflicting": 2,
            "sensitive": 3,
            "no_evidence": 4,
            "failed": 5,
        }
        keys = matrix.apply(lambda r: tuple(rank[v] for v in r), axis=1)
        matrix = matrix.loc[sorted(matrix.index, key=lambda s: (keys[s], s))]
    grid = matrix.T  # drugs x samples

    longest_drug = max((len(d) for d in grid.index), default=10)
    label_w = 0.9 + 0.075 * longest_drug
    longest_sample = max((len(s) for s in grid.columns), default=4) if labelled else 0
    col_w = 0.3 if labelled else min(0.3, 10.0 / max(n_samples, 1))
    width = max(7.0, label_w + 1.6 + col_w * max(n_samples, 1))
    height = max(3.0, 2.0 + 0.3 * max(n_drugs, 1) + 0.08 * longest_sample)

    with matplotlib.rc_context(_RC):
        fig = _new_figure(width, height)
        ax = fig.add_subplot()
        heading = title or "TKI verdict per sample and drug"
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

        order = [
            "sensitive",
            "reduced_sensitivity",
            "resistant",
            "conflicting",
            "no_evidence",
            "failed",
        ]
        codes = {v: i for i, v in enumerate(order)}
        data = grid.map(lambda v: codes[v]).to_numpy()
        from matplotlib.colors import BoundaryNorm, ListedColormap

        cmap = ListedColormap([VERDICT_COLOURS[v] for v in order])
        norm = BoundaryNorm([i - 0.5 for i in range(len(order) + 1)], cmap.N)
        ax.pcolormesh(
            data,
            cmap=cmap,
            norm=norm,
            edgecolors="white" if labelled else "face",
            linewidth=0.8 if labelled else 0,
            # Unlabelled (> MAX_LABELLED_SAMPLES) grids are drawn as one embedded image: as
            # vector quads a 1,000-sample batch made a 3.5 MB SVG and took seconds to write.
            rasterized=not labelled,
        )
        ax.set_xlim(0, n_samples)
        ax.set_ylim(n_drugs, 0)
        ax.set_yticks([i + 0.5 for i in range(n_drugs)])
        ax.set_yticklabels(grid.index, fontsize=8)
        ax.tick_params(axis="both", length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        # per-drug tally in the right margin
        for i, drug in enumerate(grid.index):
            row = grid.loc[drug]
            tally = "  ".join(
                f"{VERDICT_LETTERS[v]} {int((row == v).sum())}"
                for v in ("sensitive", "resistant", "conflicting")
            )
            ax.annotate(
                tally,
                (1.0, i + 0.5),
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
            ax.set_xticklabels(grid.columns, fontsize=8, rotation=90)
            for i, drug in enumerate(grid.index):
                for j, sample in enumerate(grid.columns):
                    letter = VERDICT_LETTERS.get(grid.loc[drug, sample], "")
                    if letter:
                        ax.text(
                            j + 0.5,
                            i + 0.5,
                            letter,
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white",
                            fontweight="bold",
                        )
        else:
            ax.set_xticks([])
            ax.set_xlabel(
                f"{n_samples} samples, sorted by verdict pattern "
                "(names: drug_matrix.tsv and the verdict page)",
                fontsize=8,
            )
        shown = [v for v in order if v != "failed" or failed]
        handles = [
            Patch(facecolor=VERDICT_COLOURS[v], edgecolor="#999999", label=VERDICT_LABELS[v])
            for v in shown
        ]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=len(handles),
            fontsize=8,
            frameon=False,
        )
        _save(fig, out_path)
    return Path(out_path)
