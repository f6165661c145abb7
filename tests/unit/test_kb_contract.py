"""The shared knowledge-base contract of issue 11: the whole OncoTree, main types, the response and
evidence-type vocabularies, and germline.tsv."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import EVIDENCE_FILE, GERMLINE_FILE, load_knowledge
from erbb2_tki.knowledge.oncotree import OTHER, SAME
from erbb2_tki.paths import annotations_dir


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", target)
    return target


def _release_rows(reference_dir: Path) -> list[list[str]]:
    path = reference_dir / "oncotree" / "oncotree_2026_05_21.txt"
    if not path.is_file():
        pytest.skip(f"{path} is missing: the OncoTree release is not beside this checkout")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [[cell.strip() for cell in line.split("\t")] for line in lines[1:]]


def test_oncotree_tsv_is_the_whole_release(kb, reference_dir):
    """Every code of OncoTree 2026_05_21 with its name, main type, tissue and parent (fields stripped;
    only the mis-encoded PREBE apostrophe is repaired)."""
    rows = _release_rows(reference_dir)
    assert len(rows) == 1168
    tree = kb.oncotree
    assert len(tree.nodes) == 1168
    for code, _colour, name, main_type, _umls, _nci, tissue, parent in rows:
        node = tree.nodes[code]
        assert (node.main_type, node.tissue, node.parent) == (main_type, tissue, parent)
        if code != "PREBE":
            assert node.name == name
    assert tree.nodes["PREBE"].name == "Barrett\u2019s Esophagus: Pre-Malignant"


@pytest.mark.parametrize(
    "code", ["GIST", "MDS/MPN", "HCL-V", "IMTFET-CREB", "ETPLL", "IBC", "MBC", "PLBMESO"]
)
def test_every_release_code_is_accepted_for_samples(kb, code):
    assert kb.resolve_tumour_type(code.lower()) == code


def test_all_codes_resolve_and_reach_a_tissue(kb):
    for code in kb.oncotree.nodes:
        if code == "TISSUE":
            continue
        assert kb.resolve_tumour_type(code) == code
        assert kb.oncotree.nodes[kb.oncotree.lineage(code)[-1]].parent == "TISSUE"


@pytest.mark.parametrize(
    ("alias", "code"),
    [("CRC", "COADREAD"), ("BTC", "BILIARY_TRACT"), ("OV", "OVT"), ("LIHC", "HCC")],
)
def test_sample_sheet_aliases_are_kept_and_are_not_release_codes(kb, alias, code):
    assert alias not in kb.oncotree.nodes
    assert kb.resolve_tumour_type(alias) == code


def test_main_types_are_the_release_main_types(kb):
    tree = kb.oncotree
    assert "Breast Cancer" in tree.main_types
    assert {"BRCA", "ILC", "IBC", "MBC", "BREAST"} <= set(tree.main_types["Breast Cancer"])
    assert set(tree.main_types["Non-Small Cell Lung Cancer"]) >= {"NSCLC", "LUAD", "LUSC"}


@pytest.mark.parametrize(
    ("sample", "evidence", "expected"),
    [
        ("IBC", "Breast Cancer", SAME),
        ("MBC", "Breast Cancer", SAME),
        ("ILC", "Breast Cancer", SAME),
        ("LUAD", "Breast Cancer", OTHER),
        ("LUAD", "Non-Small Cell Lung Cancer", SAME),
    ],
)
def test_main_type_evidence_applies_to_every_code_of_the_main_type(kb, sample, evidence, expected):
    assert kb.oncotree.match(sample, evidence) == expected


def _set(path: Path, evidence_id: str, **cells: str) -> None:
    lines = path.read_text().splitlines()
    header = next(line for line in lines if line and not line.startswith("#")).split("\t")
    for i, line in enumerate(lines):
        if line.startswith(evidence_id + "\t"):
            row = line.split("\t")
            for column, value in cells.items():
                row[header.index(column)] = value
            lines[i] = "\t".join(row)
    path.write_text("\n".join(lines) + "\n")


def test_evidence_accepts_main_types_new_responses_and_evidence_types(kb_copy):
    path = kb_copy / EVIDENCE_FILE
    _set(path, "EV0013", tumour_type="Breast Cancer", response="no_benefit")
    _set(path, "EV0014", tumour_type="GIST", evidence_type="retrospective_study")
    kb = load_knowledge(kb_copy, check_hash=False)
    rows = {row.evidence_id: row for row in kb.evidence}
    assert (rows["EV0013"].tumour_type, rows["EV0013"].response) == ("Breast Cancer", "no_benefit")
    assert (rows["EV0014"].evidence_type, rows["EV0014"].evidence_level) == (
        "retrospective_study",
        "C",
    )


@pytest.mark.parametrize("value", ["breast cancer", "Breast", "Breast cancer", "TISSUE"])
def test_evidence_rejects_what_is_neither_code_main_type_nor_pan(kb_copy, value):
    _set(kb_copy / EVIDENCE_FILE, "EV0013", tumour_type=value)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.field == "tumour_type"


def test_germline_polymorphisms_are_listed_with_sources(kb):
    listed = {row.alteration: row for row in kb.germline}
    assert listed["I655V"].rsid == "rs1136201"
    assert listed["P1170A"].rsid == "rs1058808"
    for row in listed.values():
        assert row.citations
    assert kb.germline_polymorphism(kb.canonical("Ile655Val")).rsid == "rs1136201"
    assert kb.germline_polymorphism(kb.canonical("p.Pro1170Ala")).rsid == "rs1058808"
    assert kb.germline_polymorphism(kb.canonical("L755S")) is None


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("alteration", "V655I", "disagrees with NP_004439.2"),
        ("alteration", "I655", "names a codon"),
        ("rsid", "1136201", "not in the expected form"),
        ("citations", "", "citation"),
    ],
)
def test_germline_violations_name_file_line_and_field(kb_copy, column, value, words):
    path = kb_copy / GERMLINE_FILE
    lines = path.read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = lines[header_at].split("\t")
    cells = lines[header_at + 1].split("\t")
    cells[header.index(column)] = value
    lines[header_at + 1] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.path == str(path)
    assert err.value.record == f"line {header_at + 2}"
    assert err.value.field == column
    assert words in str(err.value)


def test_rules_and_levels_without_the_1_1_0_keys_still_load(kb_copy):
    """An older version (no in_context, no resistance_contexts...) loads for `kb diff`, with the
    1.0.0 behaviour: every context may decide resistance, no carry-over, no levels in context."""
    import yaml

    rules_path = kb_copy / "verdict_rules.yaml"
    rules = yaml.safe_load(rules_path.read_text())
    for key in (
        "resistance_contexts",
        "component_resistance_cap",
        "tki_resistance_alleles",
        "resistance_allele_warning_kinds",
    ):
        del rules[key]
    del rules["tumour_type_match_rank"]["subtype"]
    rules_path.write_text(yaml.safe_dump(rules))
    levels_path = kb_copy / "levels.yaml"
    levels = yaml.safe_load(levels_path.read_text())
    del levels["in_context"]
    levels_path.write_text(yaml.safe_dump(levels))
    old = load_knowledge(kb_copy, check_hash=False)
    assert old.rules.component_resistance_cap == ""
    assert "other_tumour_type" in old.rules.resistance_contexts
    assert (
        old.rules.tumour_type_match_rank["subtype"]
        == old.rules.tumour_type_match_rank["other_tumour_type"]
    )
    assert old.levels.in_context("fda_approval", "same_tumour_type", "sensitive") == ("", "", "")
