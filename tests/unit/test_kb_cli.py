"""`erbb2-tki kb validate | show | diff | hash` through the real command line entry point."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erbb2_tki.cli import main
from erbb2_tki.paths import annotations_dir


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb-new"
    shutil.copytree(annotations_dir() / "knowledge", target)
    return target


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_summarises_the_project_knowledge_base(capsys):
    code, out, _ = run(capsys, "kb", "validate")
    assert code == 0
    assert "version 3.0.0" in out
    # 2.0.0: 90 rows (docs/knowledge-base.md, "Version 2.0.0"), T733I gone with EV0065
    assert "90 evidence rows (61 allele, 24 class, 5 codon), 29 distinct alleles, 2 codons" in out
    assert "22 drugs, 6 classes" in out


def test_validate_rejects_a_bad_row_with_exit_2(capsys, kb_copy):
    path = kb_copy / "evidence.tsv"
    path.write_text(path.read_text().replace("EV0013\tL755S\t", "EV0013\tL756S\t"))
    code, _, err = run(capsys, "kb", "validate", str(kb_copy))
    assert code == 2
    # the hash check comes first: the edit is caught even before the residue check
    assert "evidence.tsv" in err and "kb hash --write" in err
    code, _, err = run(capsys, "kb", "hash", "--write", str(kb_copy))
    assert code == 2
    assert "field alteration" in err and "disagrees with NP_004439.2 (R)" in err


def test_show_l755s_prints_resistance_sensitivity_citations_and_the_2019_conflict(capsys):
    code, out, _ = run(capsys, "kb", "show", "L755S")
    assert code == 0
    lines = out.splitlines()
    lapatinib = lines.index(next(line for line in lines if line.strip().startswith("lapatinib  [")))
    assert lines[lapatinib + 1].split()[0] == "resistant"
    # 2.0.0: Bose 2013 (breast models) and Kancha 2011 (Ba/F3, pan-cancer) are separate rows;
    # the primary source and the CIViC item are printed apart
    assert "citations: PMID:23220880" in lines[lapatinib + 2]
    assert (
        "CIViC: CIViC:EID241 (https://civicdb.org/links/evidence_items/241)" in lines[lapatinib + 3]
    )
    assert "citations: PMID:22046346" in out and "CIViC:EID3004" in out
    neratinib = lines.index(next(line for line in lines if line.strip().startswith("neratinib  [")))
    assert lines[neratinib + 1].split()[0] == "sensitive"
    assert "citations: PMID:28679771" in out
    assert "DOI:10.1080/15384101.2019.1624113" in out  # the conflicting 2019 row
    assert "Cell Cycle 2019" in out
    conflicts = out.split("conflicts (sensitivity and resistance rows for the same drug):")[1]
    assert "neratinib:" in conflicts and "EV0018 resistant D" in conflicts


@pytest.mark.parametrize("spelling", ["p.Leu755Ser", "p.(Leu755Ser)", "L755S"])
def test_show_accepts_any_spelling(capsys, spelling):
    code, out, _ = run(capsys, "kb", "show", spelling)
    assert code == 0
    assert "allele p.L755S (p.Leu755Ser on NP_004439.2" in out


def test_show_insertion_spelling_is_the_duplication(capsys):
    code, out, _ = run(capsys, "kb", "show", "A775_G776insYVMA", "--tumor-type", "LUAD")
    assert code == 0
    assert "allele p.Y772_A775dup" in out and "written A775_G776insYVMA" in out
    assert "classes: exon20_insertion, tkd_activating, oncogenic" in out
    assert "tumour type: LUAD (Lung Adenocarcinoma, under NSCLC)" in out
    # 2.0.0: PUMA-NER-4201 (no responses to neratinib alone) is no_benefit, coded to the NSCLC main type
    row = next(line for line in out.splitlines() if line.strip().endswith("EV0067"))
    assert row.split()[0] == "no_benefit" and "same_tumour_type" in row


def test_show_with_tumour_type_gives_verdicts(capsys):
    code, out, _ = run(capsys, "kb", "show", "L755S", "--tumor-type", "BRCA", "--drug", "Nerlynx")
    assert code == 0
    verdicts = out.split("verdict per drug")[1]
    assert "neratinib" in verdicts and "sensitive (level B)" in verdicts
    assert "lapatinib" not in out


def test_show_codon_and_class(capsys):
    code, out, _ = run(capsys, "kb", "show", "L755")
    assert code == 0
    assert (
        "alleles with evidence at this codon: L755P, L755S, L755W, L755_E757delinsS, L755_T759del"
        in out
    )
    code, out, _ = run(capsys, "kb", "show", "exon20_insertion")
    assert code == 0
    assert "class exon20_insertion" in out and "poziotinib" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["kb", "show", "L756S"], "disagrees with NP_004439.2"),
        (["kb", "show", "L755Z"], "cannot parse"),
        (["kb", "show", "L755S", "--tumor-type", "BRAC"], "unknown tumour type 'BRAC'"),
        (["kb", "show", "L755S", "--drug", "aspirin"], "unknown drug 'aspirin'"),
    ],
)
def test_show_errors_exit_2(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert words in err


def _set_cell(path: Path, row_id: str, column: int, value: str) -> None:
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(row_id + "\t"):
            cells = line.split("\t")
            cells[column] = value
            lines[i] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_diff_lists_added_removed_and_changed_evidence_by_id(capsys, kb_copy, tmp_path):
    old = annotations_dir() / "knowledge"
    evidence = kb_copy / "evidence.tsv"
    _set_cell(evidence, "EV0018", 4, "reduced_sensitivity")  # response changed
    _set_cell(evidence, "EV0021", 8, "HER2-amplified colorectal cancer")  # note changed
    before_note = next(
        line.split("\t")[8]
        for line in (old / "evidence.tsv").read_text().splitlines()
        if line.startswith("EV0021\t")
    )
    lines = [line for line in evidence.read_text().splitlines() if not line.startswith("EV0033\t")]
    lines.append(
        "EV9001\tL755S\tallele\tzongertinib\tsensitive\tclinical_trial\tNSCLC\tPMID:40293180\tBeamion LUNG-1"
    )
    evidence.write_text("\n".join(lines) + "\n")
    meta = kb_copy / "metadata.yaml"
    meta.write_text(meta.read_text().replace("version: 3.0.0", "version: 3.1.0"))
    # an unreleased edit can be diffed with --unreleased; a plain diff insists on a cut version
    code, _, err = run(capsys, "kb", "diff", str(old), str(kb_copy))
    assert code == 2 and "kb hash --write" in err
    assert run(capsys, "kb", "hash", "--write", str(kb_copy))[0] == 0
    tsv = tmp_path / "diff.tsv"
    code, out, _ = run(
        capsys, "kb", "diff", str(old), str(kb_copy), "--tsv", str(tsv), "--exit-code"
    )
    assert code == 1
    assert "3.0.0 (2026-11-29" in out and "-> 3.1.0" in out
    assert "evidence: 1 added, 1 removed, 2 changed, 87 unchanged" in out
    assert (
        "added    EV9001  L755S (allele) zongertinib sensitive clinical_trial NSCLC [PMID:40293180]"
        in out
    )
    assert "removed  EV0033  Y772_A775dup (allele) dacomitinib no_benefit" in out
    assert "changed  EV0018  response: 'resistant' -> 'reduced_sensitivity'" in out
    assert f"changed  EV0021  note: {before_note!r} -> 'HER2-amplified colorectal cancer'" in out
    # what the new version can change: the alleles of those rows (EV0033 is Y772_A775dup)
    assert "touches: only samples with one of these" in out
    assert "  alleles: L755S, Y772_A775dup" in out
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    assert rows[0] == ["change", "id", "field", "old", "new"]
    assert {(r[0], r[1], r[2]) for r in rows[1:]} == {
        ("added", "EV9001", ""),
        ("removed", "EV0033", ""),
        ("changed", "EV0018", "response"),
        ("changed", "EV0021", "note"),
    }


def test_diff_of_identical_versions_is_empty(capsys):
    old = str(annotations_dir() / "knowledge")
    code, out, _ = run(capsys, "kb", "diff", old, old, "--exit-code")
    assert code == 0
    assert "evidence: 0 added, 0 removed, 0 changed, 90 unchanged" in out
    assert "touches: no sample" in out


def test_diff_reports_rule_and_drug_changes(capsys, kb_copy):
    rules = kb_copy / "verdict_rules.yaml"
    rules.write_text(
        rules.read_text().replace(
            "unclear_only_verdict: conflicting", "unclear_only_verdict: no_evidence"
        )
    )
    run(capsys, "kb", "hash", "--write", str(kb_copy))
    code, out, _ = run(capsys, "kb", "diff", str(annotations_dir()), str(kb_copy))
    assert code == 0
    assert "verdict rule changed  unclear_only_verdict: 'conflicting' -> 'no_evidence'" in out
    assert "touches: every sample (verdict_rules.yaml changed)" in out


def test_touched_names_codons_and_classes(kb_copy):
    from erbb2_tki import knowledge

    evidence = kb_copy / "evidence.tsv"
    rows = [line.split("\t") for line in evidence.read_text().splitlines()]
    codon = next(r for r in rows if len(r) > 2 and r[2] == "codon")
    klass = next(r for r in rows if len(r) > 2 and r[2] == "class")
    _set_cell(evidence, codon[0], 8, "edited note")
    _set_cell(evidence, klass[0], 8, "edited note")
    knowledge.write_hashes(kb_copy)
    old = knowledge.load_knowledge(annotations_dir() / "knowledge")
    got = knowledge.touched(old, knowledge.load_knowledge(kb_copy))
    assert got == {
        "every_sample": [],
        "alleles": [],
        "codons": [codon[1]],
        "classes": [klass[1]],
    }


def test_hash_reports_match_and_mismatch(capsys, kb_copy):
    code, out, _ = run(capsys, "kb", "hash", str(kb_copy))
    assert code == 0 and "(matches metadata.yaml)" in out
    drugs = kb_copy / "drugs.tsv"
    drugs.write_text(drugs.read_text().replace("Tykerb; Tyverb", "Tykerb"))
    code, out, _ = run(capsys, "kb", "hash", str(kb_copy))
    assert code == 1 and "differs from metadata.yaml" in out
    code, out, _ = run(capsys, "kb", "hash", "--write", str(kb_copy))
    assert code == 0 and "written to" in out
    assert run(capsys, "kb", "validate", str(kb_copy))[0] == 0


def test_show_class_prints_its_intersection_and_rows(capsys):
    # KB 2.0.0: T-DXd level 1 in NSCLC narrowed to oncogenic missense mutations (OncoKB 06/2026)
    code, out, _ = run(capsys, "kb", "show", "oncogenic_missense")
    assert code == 0
    assert "within (members must also be): oncogenic" in out
    assert "EV0079" in out and "trastuzumab deruxtecan" in out
