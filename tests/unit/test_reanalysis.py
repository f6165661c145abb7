"""erbb2-tki diff: exactly the changed verdicts between two hand-written results folders."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from erbb2_tki import cli
from erbb2_tki.errors import InputError
from erbb2_tki.outputs import reanalysis

HEADER = "sample\tdrug\tverdict\tevidence_level\ttumour_type_match\talleles\tcitations\treason\tkb_version\tkb_hash"


def verdict_line(sample, drug, verdict, level="", alleles="", cites="", reason="", kb="2025.1"):
    match = "same" if verdict != "no_evidence" else ""
    return "\t".join(
        [sample, drug, verdict, level, match, alleles, cites, reason, kb, f"hash-{kb}"]
    )


def write_run(root: Path, verdicts: dict[str, list[str]], summary: list[tuple[str, str, str]]):
    (root / "tables").mkdir(parents=True)
    (root / "batch").mkdir()
    for sample, lines in verdicts.items():
        (root / "tables" / f"{sample}.verdicts.tsv").write_text("\n".join([HEADER, *lines]) + "\n")
    (root / "batch" / "summary.tsv").write_text(
        "sample\tstatus\treason\tbuild\n"
        + "".join(f"{s}\t{st}\t{r}\tGRCh38\n" for s, st, r in summary)
    )
    return root


def old_run(tmp_path: Path) -> Path:
    return write_run(
        tmp_path / "old",
        {
            "P1": [
                verdict_line("P1", "neratinib", "sensitive", "clinical_trial", "p.L755S", "PMID:1"),
                verdict_line("P1", "lapatinib", "resistant", "preclinical", "p.L755S", "PMID:2"),
            ],
            "P2": [verdict_line("P2", "afatinib", "sensitive", "preclinical", "p.S310F", "PMID:3")],
            "P3": [verdict_line("P3", "neratinib", "sensitive", "clinical_trial", "p.V777L")],
            "P4": [],  # annotated, no ERBB2 alleles
            "P5": [verdict_line("P5", "neratinib", "sensitive", "clinical_trial", "p.L869R")],
        },
        [("P1", "ok", ""), ("P2", "ok", ""), ("P3", "ok", ""), ("P4", "ok", ""), ("P5", "ok", "")],
    )


def test_identical_runs_exit_zero(tmp_path: Path) -> None:
    old = old_run(tmp_path)
    out = io.StringIO()
    args = cli.build_parser().parse_args(["diff", str(old), str(old)])
    assert reanalysis.run_cli(args, stdout=out) == 0
    assert "No verdict changed." in out.getvalue()
    assert cli.main(["diff", "--quiet", str(old), str(old)]) == 0


def test_kb_version_change_alone_is_not_a_change(tmp_path: Path) -> None:
    old = old_run(tmp_path)
    new = tmp_path / "new"
    new.mkdir()
    for sub in ("tables", "batch"):
        (new / sub).mkdir()
        for f in (old / sub).iterdir():
            (new / sub / f.name).write_text(f.read_text().replace("2025.1", "2025.2"))
    diff = reanalysis.diff_runs(reanalysis.load_run(old), reanalysis.load_run(new))
    assert diff.empty


def test_diff_lists_exactly_the_changed_verdicts(tmp_path: Path) -> None:
    old = old_run(tmp_path)
    new = write_run(
        tmp_path / "new",
        {
            # neratinib flips to conflicting at a lower level; lapatinib now also decided by T798I
            "P1": [
                verdict_line("P1", "neratinib", "conflicting", "preclinical", "p.L755S", "PMID:9"),
                verdict_line("P1", "lapatinib", "resistant", "preclinical", "p.T798I;p.L755S"),
            ],
            # same verdict, evidence level up: a change; a new drug with evidence: changed from
            # no_evidence; a new drug without evidence: not a change
            "P2": [
                verdict_line("P2", "afatinib", "sensitive", "clinical_trial", "p.S310F", "PMID:3"),
                verdict_line("P2", "zongertinib", "sensitive", "fda_approval", "p.S310F"),
                verdict_line("P2", "tucatinib", "no_evidence"),
            ],
            # the same allele written without "p.", and other citations: not a change
            "P3": [
                verdict_line("P3", "neratinib", "sensitive", "clinical_trial", "V777L", "PMID:5")
            ],
            "P4": [],
            # P5 failed in the new run: its answer is removed, with a status row
            "P5": [],
            # P6 only in the new run
            "P6": [verdict_line("P6", "neratinib", "resistant", "preclinical", "p.T798I")],
        },
        [
            ("P1", "ok", ""),
            ("P2", "ok", ""),
            ("P3", "ok", ""),
            ("P4", "ok", ""),
            ("P5", "failed", "bad VCF header"),
            ("P6", "ok", ""),
        ],
    )
    diff = reanalysis.diff_runs(reanalysis.load_run(old), reanalysis.load_run(new))
    got = {(r.sample, r.drug, r.change, r.fields) for r in diff.itertuples()}
    assert got == {
        ("P1", "neratinib", "changed", "verdict,evidence_level"),
        ("P1", "lapatinib", "changed", "alleles"),
        ("P2", "afatinib", "changed", "evidence_level"),
        ("P2", "zongertinib", "changed", "verdict,evidence_level,alleles"),
        ("P5", "*", "status", "status"),
        ("P5", "neratinib", "removed", "verdict"),
        ("P6", "*", "status", "status"),
        ("P6", "neratinib", "added", "verdict"),
    }
    p1 = diff[(diff["sample"] == "P1") & (diff["drug"] == "neratinib")].iloc[0]
    assert (p1.old_verdict, p1.new_verdict) == ("sensitive", "conflicting")
    assert (p1.old_citations, p1.new_citations) == ("PMID:1", "PMID:9")
    assert (p1.old_kb_version, p1.new_kb_version) == ("2025.1", "2025.1")
    p5 = diff[(diff["sample"] == "P5") & (diff["change"] == "status")].iloc[0]
    assert (p5.old_status, p5.new_status, p5.new_reason) == ("ok", "failed", "bad VCF header")
    p6 = diff[(diff["sample"] == "P6") & (diff["change"] == "status")].iloc[0]
    assert (p6.old_status, p6.new_status) == ("absent", "ok")

    out_tsv = tmp_path / "diff" / "changes.tsv"
    stdout = io.StringIO()
    args = cli.build_parser().parse_args(["diff", str(old), str(new), "--tsv", str(out_tsv)])
    assert reanalysis.run_cli(args, stdout=stdout) == reanalysis.EXIT_CHANGED == 3
    written = pd.read_csv(out_tsv, sep="\t", dtype=str, keep_default_na=False)
    assert list(written.columns) == reanalysis.DIFF_COLUMNS
    assert len(written) == 8
    text = stdout.getvalue()
    assert "6 verdict(s) changed in 4 sample(s); 2 sample status change(s)." in text
    assert (
        "neratinib: sensitive [clinical_trial; p.L755S] -> conflicting [preclinical; p.L755S]"
        in text
    )
    assert "status: ok -> failed: bad VCF header" in text
    assert "neratinib: no answer (sample absent) -> resistant [preclinical; p.T798I]" in text
    assert "knowledge base 2025.1 (hash hash-2025.1)" in text  # no algorithm prefix: as given


def test_evidence_flag_reports_citation_only_changes(tmp_path: Path) -> None:
    old = write_run(
        tmp_path / "old",
        {"P1": [verdict_line("P1", "neratinib", "sensitive", "clinical_trial", "L755S", "PMID:1")]},
        [("P1", "ok", "")],
    )
    new = write_run(
        tmp_path / "new",
        {"P1": [verdict_line("P1", "neratinib", "sensitive", "clinical_trial", "L755S", "PMID:7")]},
        [("P1", "ok", "")],
    )
    o, n = reanalysis.load_run(old), reanalysis.load_run(new)
    assert reanalysis.diff_runs(o, n).empty
    diff = reanalysis.diff_runs(o, n, evidence=True)
    assert list(diff["fields"]) == ["citations"]
    assert cli.main(["diff", "--quiet", "--evidence", str(old), str(new)]) == 3


def test_project_folder_with_results_subfolder_is_accepted(tmp_path: Path) -> None:
    old_run(tmp_path).rename(tmp_path / "results")
    run = reanalysis.load_run(tmp_path)
    assert sorted(run.samples) == ["P1", "P2", "P3", "P4", "P5"]
    assert run.kb_versions() == [("2025.1", "hash-2025.1")]


def test_missing_folder_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = old_run(tmp_path)
    assert cli.main(["diff", str(old), str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "does not exist" in err and "Fix:" in err


def test_folder_that_is_not_results_exits_two(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an erbb2-tki results folder"):
        reanalysis.load_run(tmp_path / "empty")
    assert cli.main(["diff", str(tmp_path / "empty"), str(tmp_path / "empty")]) == 2


def test_verdict_table_without_drug_column_names_file_and_column(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    (root / "tables").mkdir(parents=True)
    (root / "tables" / "P1.verdicts.tsv").write_text("sample\tverdict\nP1\tsensitive\n")
    with pytest.raises(InputError) as info:
        reanalysis.load_run(root)
    assert info.value.field == "drug"
    assert info.value.path is not None and info.value.path.endswith("P1.verdicts.tsv")


def test_duplicate_verdict_rows_are_refused(tmp_path: Path) -> None:
    root = write_run(
        tmp_path / "dup",
        {
            "P1": [
                verdict_line("P1", "neratinib", "sensitive"),
                verdict_line("P1", "neratinib", "resistant"),
            ]
        },
        [("P1", "ok", "")],
    )
    with pytest.raises(InputError, match="two verdict rows") as info:
        reanalysis.load_run(root)
    assert info.value.record == "line 3"


def test_gathered_batch_table_and_summary_decide_the_samples(tmp_path: Path) -> None:
    """The workflow's batch/verdicts.tsv is read when present; a sample only in a leftover
    tables/ file is not part of the run; an ok sample without rows has no evidence."""
    root = write_run(
        tmp_path / "run",
        {"OLD": [verdict_line("OLD", "neratinib", "sensitive")]},  # stale per-sample table
        [("P1", "ok", ""), ("P2", "ok", ""), ("P3", "failed", "no such file")],
    )
    (root / "batch" / "verdicts.tsv").write_text(
        "\n".join([HEADER, verdict_line("P1", "neratinib", "resistant", "preclinical", "T798I")])
        + "\n"
    )
    run = reanalysis.load_run(root)
    assert sorted(run.samples) == ["P1", "P2", "P3"]
    assert run.annotated("P2") and not run.annotated("P3")
    assert reanalysis._state(run, "P1", "neratinib")["verdict"] == "resistant"
    assert reanalysis._state(run, "P2", "neratinib")["verdict"] == "no_evidence"
    assert reanalysis._state(run, "P3", "neratinib") is None


CONTEXT_HEADER = (
    "sample\tdrug\tverdict\tlevel_in_context\tamp_tier\toncokb_level\tevidence_level\talleles"
)


def _context_run(root: Path, rows: list[str], header: str = CONTEXT_HEADER) -> Path:
    (root / "tables").mkdir(parents=True)
    (root / "batch").mkdir()
    (root / "tables" / "P1.verdicts.tsv").write_text("\n".join([header, *rows]) + "\n")
    (root / "batch" / "summary.tsv").write_text("sample\tstatus\treason\tbuild\nP1\tok\t\tGRCh38\n")
    return root


def test_a_change_of_strength_in_context_is_a_change_and_shown(tmp_path: Path) -> None:
    # The same sensitive verdict, from tier I (its own tumour type) to tier II (another one):
    # a tumour board gets a different answer, so the diff lists it with both strengths.
    old = _context_run(tmp_path / "old", ["P1\tzongertinib\tsensitive\tA\tI\t1\tA\tp.L755S"])
    new = _context_run(tmp_path / "new", ["P1\tzongertinib\tsensitive\tC\tII\t3B\tA\tp.L755S"])
    rows = reanalysis.diff_rows(reanalysis.load_run(old), reanalysis.load_run(new))
    assert [(r["drug"], r["fields"]) for r in rows] == [
        ("zongertinib", "level_in_context,amp_tier,oncokb_level")
    ]
    text = reanalysis.format_text(reanalysis.load_run(old), reanalysis.load_run(new), rows)
    assert "sensitive [A, tier I, OncoKB 1 (KB A); p.L755S]" in text
    assert "sensitive [C, tier II, OncoKB 3B (KB A); p.L755S]" in text


def test_results_written_before_levels_in_context_are_not_all_changed(tmp_path: Path) -> None:
    # An old batch (no level columns) re-analysed by this version: same verdict, level and
    # alleles is the same answer, not a change.
    old = _context_run(
        tmp_path / "old",
        ["P1\tneratinib\tsensitive\tB\tp.L755S"],
        header="sample\tdrug\tverdict\tevidence_level\talleles",
    )
    new = _context_run(tmp_path / "new", ["P1\tneratinib\tsensitive\tB\tI\t3A\tB\tp.L755S"])
    assert reanalysis.diff_rows(reanalysis.load_run(old), reanalysis.load_run(new)) == []
