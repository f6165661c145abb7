"""Tumour-type context: OncoTree parent-child relations decide same vs other tumour type."""

from __future__ import annotations

import pytest

from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import load_knowledge
from erbb2_tki.knowledge.oncotree import (
    OTHER,
    PAN_CANCER,
    SAME,
    SUBTYPE,
    UNKNOWN,
    parse_oncotree_rows,
)


@pytest.fixture(scope="module")
def tree():
    return load_knowledge().oncotree


@pytest.mark.parametrize(
    ("sample", "evidence", "expected"),
    [
        ("ILC", "BRCA", SAME),  # lobular is an invasive breast carcinoma
        ("IDC", "BRCA", SAME),
        ("BRCA", "ILC", SUBTYPE),  # lobular evidence for a breast sample of unstated histology
        ("IDC", "ILC", OTHER),  # siblings: ductal and lobular differ
        ("LUAD", "NSCLC", SAME),
        ("NSCLC", "LUAD", SUBTYPE),
        ("LUSC", "LUAD", OTHER),
        ("COAD", "COADREAD", SAME),
        ("READ", "COADREAD", SAME),
        ("COADREAD", "BRCA", OTHER),
        ("BLCA", "COADREAD", OTHER),
        ("CESC", "CESC", SAME),
        ("SCLC", "NSCLC", OTHER),  # both lung, but small cell is not a non-small cell cancer
        ("HGSOC", "OVT", SAME),
        ("STAD", "ESCA", OTHER),  # both esophagogastric adenocarcinomas, different sites
    ],
)
def test_relations(tree, sample, evidence, expected):
    assert tree.match(sample, evidence) == expected


def test_pan_and_unknown(tree):
    assert tree.match("BRCA", "pan") == PAN_CANCER
    assert tree.match(None, "pan") == PAN_CANCER
    assert tree.match(None, "BRCA") == UNKNOWN


def test_tissue_level_codes_relate_only_within_their_tissue(tree):
    # BREAST is the tissue node: evidence below it is a subtype, lung evidence another tumour type;
    # BREAST evidence is the same tumour type for every breast code (matching goes upward).
    assert tree.match("BREAST", "ILC") == SUBTYPE
    assert tree.match("ILC", "BREAST") == SAME
    assert tree.match("IBC", "BREAST") == SAME
    assert tree.match("BREAST", "NSCLC") == OTHER


@pytest.mark.parametrize(
    ("text", "code"),
    [("luad", "LUAD"), (" ILC ", "ILC"), ("CRC", "COADREAD"), ("OV", "OVT"), ("LIHC", "HCC")],
)
def test_resolve_codes_case_insensitively_and_aliases(tree, text, code):
    assert tree.resolve(text) == code


@pytest.mark.parametrize("text", ["BRAC", "TISSUE", "breast cancer", ""])
def test_unknown_code_is_an_input_error_naming_the_file(tree, text):
    with pytest.raises(InputError) as err:
        tree.resolve(text)
    assert err.value.path.endswith("oncotree.tsv")
    assert err.value.field == "tumour_type"
    assert "OncoTree" in str(err.value)


def test_lineage_stops_below_the_root(tree):
    assert tree.lineage("ILC") == ("ILC", "BRCA", "BREAST")
    assert tree.lineage("IHCH") == ("IHCH", "CHOL", "IPN", "BILIARY_TRACT")


def _row(code, parent, aliases=""):
    return {
        "code": code,
        "name": code,
        "main_type": "",
        "tissue": "",
        "parent": parent,
        "aliases": aliases,
    }


def test_dangling_parent_names_the_line_and_field():
    rows = [(5, _row("TISSUE", "")), (6, _row("BREAST", "TISSUE")), (7, _row("ILC", "BRCA"))]
    with pytest.raises(InputError) as err:
        parse_oncotree_rows(rows, "oncotree.tsv")
    assert err.value.record == "line 7"
    assert err.value.field == "parent"
    assert "BRCA" in err.value.message


def test_parent_cycle_is_rejected():
    rows = [(5, _row("TISSUE", "")), (6, _row("AAA", "BBB")), (7, _row("BBB", "AAA"))]
    with pytest.raises(InputError) as err:
        parse_oncotree_rows(rows, "oncotree.tsv")
    assert err.value.field == "parent"
    assert "loops" in err.value.message


def test_duplicate_code_and_alias_clash_are_rejected():
    rows = [(5, _row("TISSUE", "")), (6, _row("BREAST", "TISSUE")), (7, _row("BREAST", "TISSUE"))]
    with pytest.raises(InputError) as err:
        parse_oncotree_rows(rows, "oncotree.tsv")
    assert (err.value.record, err.value.field) == ("line 7", "code")
    rows = [(5, _row("TISSUE", "")), (6, _row("BREAST", "TISSUE", "BREAST"))]
    with pytest.raises(InputError) as err:
        parse_oncotree_rows(rows, "oncotree.tsv")
    assert err.value.field == "aliases"
