"""Batch figures: the lollipop and the verdict heatmap are drawn, say the right things, and are
byte-identical between runs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erbb2_tki.outputs import plots

DOMAINS = [
    ("extracellular domain I", 23, 217, "test"),
    ("transmembrane", 653, 675, "test"),
    ("kinase domain", 720, 987, "test"),
]


def allele(sample, hgvsp_short, consequence="missense_variant", oncogenicity="oncogenic", **kw):
    row = {
        "sample": sample,
        "hgvsp_short": hgvsp_short,
        "consequence": consequence,
        "oncogenicity": oncogenicity,
        "filter": "PASS",
        "used_for_verdict": "yes",
    }
    row.update(kw)
    return row


def batch_alleles() -> list[dict[str, str]]:
    return [
        allele("P1", "p.L755S"),
        allele("P2", "p.L755S"),
        allele("P2", "p.T798I", oncogenicity="likely_oncogenic"),
        allele("P3", "p.L755P"),
        allele("P3", "p.Y772_A775dup", "inframe_insertion"),
        allele("P4", "p.S310F"),
        allele("P4", "", "intron_variant", ""),
        allele("P5", "p.Q1200*", "stop_gained", "", used_for_verdict="no:filtered"),
    ]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def svg_text(path: Path) -> str:
    """The text a reader sees in the SVG (text is kept as <text>, not paths)."""
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text()))


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"hgvsp_short": "p.L755S"}, 755),
        ({"hgvsp_short": "p.Y772_A775dup"}, 772),
        ({"hgvsp_short": "p.Y781Ifs*93"}, 781),
        ({"hgvsp_short": "p.*1256Wext*?"}, 1256),
        ({"hgvsp_short": "", "hgvsp": "p.Tyr781IlefsTer93"}, 781),
        ({"hgvsp_short": "p.(L755S)"}, 755),
        ({"hgvsp_short": "p.L755S", "protein_start": "754"}, 754),
        ({"hgvsp_short": "p.G776delinsVC", "protein_start": ""}, 776),
        ({"hgvsp_short": ""}, None),
        ({"hgvsp_short": "p.?"}, None),
    ],
)
def test_protein_start(row: dict[str, str], expected: int | None) -> None:
    assert plots.protein_start(row) == expected


@pytest.mark.parametrize(
    ("consequence", "expected"),
    [
        ("missense_variant", "missense"),
        ("frameshift_variant&splice_region_variant", "truncating"),
        ("inframe_insertion", "in-frame indel"),
        ("splice_region_variant&synonymous_variant", "synonymous"),
        ("intron_variant", "other"),
        ("", "other"),
    ],
)
def test_consequence_class(consequence: str, expected: str) -> None:
    assert plots.consequence_class(consequence) == expected


def test_residue_counts_count_samples_per_residue() -> None:
    tally = plots.AlleleTally().extend(batch_alleles())
    assert tally.left_out == 1  # the filtered stop_gained
    assert tally.off_protein == 1 and tally.carriers == 4
    counts = {c.residue: c for c in tally.residues()}
    assert list(counts) == [310, 755, 772, 798]
    assert counts[755].n_samples == 3
    assert counts[755].label == "L755S (2)/L755P (1)"
    assert counts[772].consequence_class == "in-frame indel"
    assert counts[798].oncogenic
    # residue_counts counts every row it is given; the same rows give the same stems
    used = [r for r in batch_alleles() if r["used_for_verdict"] == "yes"]
    assert plots.residue_counts(used) == tally.residues()


def test_allele_tally_counts_a_sample_once_per_residue_in_any_row_order() -> None:
    rows = [
        allele("P1", "p.L755S"),
        allele("P2", "p.L755S"),
        allele("P1", "p.L755S"),  # a second row of P1 (another ALT), after P2
        allele("P2", "p.L755P"),
    ]
    (stem,) = plots.AlleleTally().extend(rows).residues()
    assert (stem.n_samples, stem.label) == (2, "L755S (2)/L755P (1)")


def test_lollipop_draws_alleles_and_domains(tmp_path: Path) -> None:
    out = plots.lollipop(batch_alleles(), DOMAINS, tmp_path / "lollipop.svg", n_samples=6)
    text = svg_text(out)
    for expected in (
        "L755S (2)",
        "L755P (1)",
        "Y772_A775dup",
        "S310F",
        "6 samples, 4 with at least one allele drawn",
        "kinase domain 720-987",
        "1 allele row(s) not drawn",
        "1 allele row(s) off the protein",
    ):
        assert expected in text, expected
    assert "Q1200*" not in text  # filtered: not drawn
    assert "<dc:date>" not in out.read_text()


@given(
    st.lists(
        st.tuples(st.integers(1, 1255), st.floats(5, 60)),
        min_size=1,
        max_size=15,
    )
)
def test_spread_labels_never_overlap_and_stay_on_the_protein(
    labels: list[tuple[int, float]],
) -> None:
    labels = sorted(labels)
    positions = [p for p, _ in labels]
    widths = [w for _, w in labels]
    placed = plots.spread_labels(positions, widths, 0, 1256)
    assert placed == sorted(placed)
    for k in range(1, len(placed)):
        assert placed[k] - placed[k - 1] >= (widths[k] + widths[k - 1]) / 2 - 1e-6
    if sum(widths) <= 1256:  # room for all: every label is on the axis
        assert placed[0] - widths[0] / 2 >= -1e-6
        assert placed[-1] + widths[-1] / 2 <= 1256 + 1e-6


def test_spread_labels_leaves_separate_labels_in_place() -> None:
    assert plots.spread_labels([310, 755, 869], [20, 20, 20], 0, 1256) == [310, 755, 869]
    assert plots.spread_labels([755, 760], [20, 20], 0, 1256) == [755, 775]


def test_lollipop_accepts_a_loaded_transcript(tmp_path: Path) -> None:
    class Transcript:
        domains = (plots.Domain("kinase domain", 720, 987, "UniProt"),)

    out = plots.lollipop(batch_alleles(), Transcript(), tmp_path / "l.svg")
    assert "kinase domain 720-987" in svg_text(out)


def test_figures_are_byte_identical_between_runs(tmp_path: Path) -> None:
    suffix = "svg"
    verdicts = [
        {"sample": "P1", "drug": "neratinib", "verdict": "sensitive"},
        {"sample": "P2", "drug": "neratinib", "verdict": "resistant"},
    ]
    first = [
        plots.lollipop(batch_alleles(), DOMAINS, tmp_path / f"a1.{suffix}"),
        plots.verdict_heatmap(verdicts, tmp_path / f"h1.{suffix}"),
    ]
    second = [
        plots.lollipop(batch_alleles(), DOMAINS, tmp_path / f"a2.{suffix}"),
        plots.verdict_heatmap(verdicts, tmp_path / f"h2.{suffix}"),
    ]
    assert [sha(p) for p in first] == [sha(p) for p in second]
    assert first[0].read_text().startswith("<svg ")


def test_figures_are_svg_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SVG only"):
        plots.lollipop(batch_alleles(), DOMAINS, tmp_path / "l.png")


@pytest.mark.parametrize("frame", [[], iter(())])
def test_lollipop_of_an_empty_batch_says_so(tmp_path: Path, frame: list[dict[str, str]]) -> None:
    out = plots.lollipop(frame, DOMAINS, tmp_path / "empty.svg", n_samples=3)
    text = svg_text(out)
    assert "No ERBB2 calls in this batch" in text
    assert "3 samples, 0 with at least one allele drawn" in text


def test_lollipop_with_only_intronic_alleles(tmp_path: Path) -> None:
    frame = [allele("P1", "", "intron_variant", "")]
    text = svg_text(plots.lollipop(frame, DOMAINS, tmp_path / "intronic.svg"))
    assert "No ERBB2 alleles on the protein in this batch" in text


def test_heatmap_rows_letters_and_failed_samples(tmp_path: Path) -> None:
    verdicts = [
        {"sample": "P1", "drug": "neratinib", "verdict": "sensitive"},
        {"sample": "P1", "drug": "lapatinib", "verdict": "resistant"},
        {"sample": "P2", "drug": "neratinib", "verdict": "conflicting"},
        {"sample": "P2", "drug": "lapatinib", "verdict": "no_evidence"},
    ]
    summary = [
        {"sample": "P1", "status": "ok"},
        {"sample": "P2", "status": "ok"},
        {"sample": "P3", "status": "ok"},  # no ERBB2 alleles, so no verdict rows
        {"sample": "P4", "status": "failed"},
    ]
    samples, drugs, cells = plots.verdict_cells(verdicts, summary)
    assert samples == ["P1", "P2", "P3", "P4"] and drugs == ["lapatinib", "neratinib"]
    assert {k: c.state for k, c in cells.items()} == {
        ("P1", "lapatinib"): "resistant",
        ("P1", "neratinib"): "sensitive",
        ("P2", "lapatinib"): "no_evidence",
        ("P2", "neratinib"): "conflicting",
        ("P3", "lapatinib"): "no_evidence",  # the summary has no alleles column: cannot tell
        ("P3", "neratinib"): "no_evidence",
        ("P4", "lapatinib"): "failed",
        ("P4", "neratinib"): "failed",
    }
    text = svg_text(plots.verdict_heatmap(verdicts, tmp_path / "h.svg", summary=summary))
    for expected in ("P1", "P3", "P4", "4 samples x 2 drugs", "sample failed", "C  conflicting"):
        assert expected in text, expected
    letters = re.findall(r">([SRC])</text>", (tmp_path / "h.svg").read_text())
    assert sorted(letters) == ["C", "R", "S"]
    # the right margin counts the verdicts per drug (tier I in brackets: no tier given here)
    assert "S 1 (0 I)  C 1 (0 I)" in text and "R 1 (0 I)" in text
    assert plots.TALLY_HEADER in text


def test_heatmap_of_500_samples_drops_names_and_stays_bounded(tmp_path: Path) -> None:
    verdicts = [
        {"sample": f"S{i:03d}", "drug": drug, "verdict": plots.VERDICTS[(i + j) % 4]}
        for i in range(500)
        for j, drug in enumerate(["afatinib", "lapatinib", "neratinib"])
    ]
    out = plots.verdict_heatmap(verdicts, tmp_path / "h500.svg")
    text = svg_text(out)
    assert "500 samples x 3 drugs" in text
    assert "500 samples, sorted by verdict pattern" in text
    assert "S123" not in text
    width = float(re.search(r'<svg [^>]*width="([\d.]+)"', out.read_text()).group(1))
    assert width < 18 * 96  # the figure does not grow with the batch beyond 60 samples
    # the 1,500 cells are one embedded image (one drug group), not 1,500 vector shapes
    assert out.read_text().count("<image") == 1
    assert out.read_text().count("<rect") < 30
    assert out.stat().st_size < 100_000
    again = plots.verdict_heatmap(verdicts, tmp_path / "h500_again.svg")
    assert again.read_bytes() == out.read_bytes()


def test_heatmap_of_60_samples_names_every_sample(tmp_path: Path) -> None:
    verdicts = [
        {"sample": f"S{i:02d}", "drug": "neratinib", "verdict": "sensitive"} for i in range(60)
    ]
    text = svg_text(plots.verdict_heatmap(verdicts, tmp_path / "h60.svg"))
    assert all(f"S{i:02d}" in text for i in range(60))


def test_heatmap_of_an_empty_batch_says_so(tmp_path: Path) -> None:
    summary = [{"sample": "P1", "status": "failed: unreadable VCF"}]
    out = plots.verdict_heatmap([], tmp_path / "h.svg", summary=summary)
    assert "No verdicts in this batch (1 failed samples)" in svg_text(out)
