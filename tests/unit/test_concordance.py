"""`erbb2-tki kb concordance`: CIViC items read against the knowledge base, with known answers on
inline CIViC rows, and the CI check on the real export in ../shared/knowledge/civic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from erbb2_tki.cli import main
from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import concordance, load_knowledge
from erbb2_tki.paths import annotations_dir

COLUMNS = concordance.CIVIC_COLUMNS


def civic_row(**values: str) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    row.update(
        molecular_profile="ERBB2 G309A",
        disease="Breast Cancer",
        doid="1612",
        therapies="Neratinib",
        evidence_type="Predictive",
        evidence_direction="Supports",
        evidence_level="D",
        significance="Sensitivity/Response",
        citation_id="23220880",
        source_type="PubMed",
        evidence_id="282",
    )
    row.update(values)
    return row


def civic_text(rows: list[dict[str, str]]) -> str:
    lines = ["\t".join(COLUMNS)] + ["\t".join(r[c] for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture
def tables_dir(tmp_path: Path) -> Path:
    target = tmp_path / "concordance"
    shutil.copytree(annotations_dir() / "concordance", target)
    header = "evidence_id\tstatus\treason\n"
    (target / concordance.DECISIONS_FILE).write_text(header)
    return target


def one(kb, tables_dir: Path, **values: str) -> concordance.Result:
    tables = concordance.load_tables(tables_dir)
    results = concordance.concordance(kb, tables, [civic_row(**values)])
    assert len(results) == 1
    return results[0]


def test_same_source_same_claim_agrees(kb, tables_dir):
    r = one(kb, tables_dir)
    assert r.status == "agree"
    assert "EV0001" in r.kb_rows


def test_a_different_level_is_a_disagreement_naming_the_field(kb, tables_dir):
    r = one(kb, tables_dir, evidence_level="B")
    assert r.status == "disagree"
    assert "level D (CIViC B)" in r.reason


def test_a_different_direction_is_a_disagreement(kb, tables_dir):
    r = one(kb, tables_dir, significance="Resistance")
    assert r.status == "disagree" and "response sensitive" in r.reason


def test_a_tumour_type_outside_the_rows_is_a_disagreement(kb, tables_dir):
    r = one(kb, tables_dir, disease="Colorectal Cancer", doid="9256")
    assert r.status == "disagree" and "tumour type" in r.reason


def test_a_source_the_kb_does_not_cite_is_not_in_kb(kb, tables_dir):
    r = one(kb, tables_dir, citation_id="99999999", evidence_id="900001")
    assert r.status == "not_in_kb"
    assert "no row cites PMID:99999999" in r.reason
    assert "EV0001" in r.kb_rows  # rows about the same allele and drug from other sources


def test_a_kb_row_citing_the_civic_item_counts_as_the_same_source(kb, tables_dir, tmp_path):
    kb_dir = tmp_path / "kb"
    shutil.copytree(annotations_dir() / "knowledge", kb_dir)
    path = kb_dir / "evidence.tsv"
    lines = path.read_text().splitlines()
    for n, line in enumerate(lines):
        if line.startswith("EV0001\t"):
            cells = line.split("\t")
            cells[7] = "PMID:23220880;CIViC:EID777"
            lines[n] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")
    edited = load_knowledge(kb_dir, check_hash=False)
    r = one(edited, tables_dir, citation_id="11111111", evidence_id="777")
    assert r.status == "agree" and "EV0001" in r.kb_rows


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"molecular_profile": "ERBB2 Amplification"}, "copy-number"),
        ({"molecular_profile": "ERBB2 Mutation OR ERBB3 Mutation"}, "another gene"),
        ({"molecular_profile": "ERBB2 V777L AND PIK3CA E545K"}, "other variants"),
        ({"therapies": "Platinum Compound"}, "not in drugs.tsv"),
        (
            {"therapies": "Sirolimus,Afatinib", "therapy_interaction_type": "Combination"},
            "Sirolimus",
        ),
        (
            {"therapies": "Trastuzumab,Neratinib", "therapy_interaction_type": "Sequential"},
            "sequential",
        ),
        ({"significance": "Adverse Response"}, "Adverse Response"),
    ],
)
def test_out_of_scope_items_say_why(kb, tables_dir, values, words):
    r = one(kb, tables_dir, **values)
    assert r.status == "out_of_scope"
    assert words in r.reason


def test_only_predictive_erbb2_items_are_read(kb, tables_dir):
    tables = concordance.load_tables(tables_dir)
    rows = [
        civic_row(),
        civic_row(evidence_type="Prognostic", evidence_id="2"),
        civic_row(molecular_profile="ERBB3 E928G", evidence_id="3"),
        civic_row(molecular_profile="ERBB20 X1Y", evidence_id="4"),
    ]
    assert [r.evidence_id for r in concordance.concordance(kb, tables, rows)] == ["282"]


def test_civic_spellings_of_alleles_are_normalised(kb, tables_dir):
    r = one(
        kb,
        tables_dir,
        molecular_profile="ERBB2 A775_G776INSYVMA",
        therapies="Dacomitinib",
        significance="Sensitivity/Response",
        evidence_direction="Does Not Support",
        evidence_level="B",
        citation_id="25899785",
        disease="Lung Non-small Cell Carcinoma",
        doid="3908",
    )
    assert r.kb_rows and all(row.startswith("EV") for row in r.kb_rows)
    assert r.status in ("agree", "disagree")  # found the Y772_A775dup rows of Kris 2015


def test_an_unparseable_profile_needs_a_decision(kb, tables_dir):
    r = one(kb, tables_dir, molecular_profile="ERBB2 Frobnicated Domain")
    assert r.status == "not_in_kb" and "civic_profiles.tsv" in r.reason


def test_recorded_decisions_cover_their_item_and_status_only(kb, tables_dir):
    (tables_dir / concordance.DECISIONS_FILE).write_text(
        "evidence_id\tstatus\treason\nEID282\tdisagree\tkept: the paper says D\n"
        "900001\tnot_in_kb\tnot added: test\n"
    )
    tables = concordance.load_tables(tables_dir)
    results = concordance.concordance(
        kb,
        tables,
        [
            civic_row(evidence_level="B"),
            civic_row(evidence_id="900002", citation_id="99999999"),
        ],
    )
    assert results[0].curator_reason == "kept: the paper says D"
    assert [r.evidence_id for r in concordance.undecided(results)] == ["900002"]
    assert [d.evidence_id for d in concordance.stale_decisions(tables, results)] == ["900001"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("evidence_id\tstatus\treason\n282\tagree\tx\n", "status"),
        ("evidence_id\tstatus\treason\n282\tdisagree\t\n", "reason"),
        ("evidence_id\tstatus\treason\n282\tdisagree\tx\nEID282\tdisagree\ty\n", "evidence_id"),
    ],
)
def test_bad_decision_rows_name_the_line_and_field(tables_dir, text, field):
    (tables_dir / concordance.DECISIONS_FILE).write_text(text)
    with pytest.raises(InputError) as err:
        concordance.load_tables(tables_dir)
    assert err.value.field == field and err.value.record


def test_not_a_civic_file_is_an_input_error(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError) as err:
        concordance.read_civic(path)
    assert "ClinicalEvidenceSummaries" in str(err.value)


def test_cli_writes_one_row_per_item_and_prints_counts(capsys, tmp_path, tables_dir):
    civic = tmp_path / "civic.tsv"
    civic.write_text(
        civic_text(
            [
                civic_row(),
                civic_row(evidence_id="2", evidence_level="B"),
                civic_row(evidence_id="3", molecular_profile="ERBB2 Amplification"),
            ]
        )
    )
    out = tmp_path / "c.tsv"
    code = main(["kb", "concordance", str(civic), "--out", str(out), "--tables", str(tables_dir)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "agree 1, disagree 1 (0 with a recorded reason), not_in_kb 0" in printed
    assert "out_of_scope 1" in printed and "undecided  EID2  disagree" in printed
    lines = out.read_text().splitlines()
    assert lines[0].split("\t")[:4] == ["evidence_id", "status", "kb_rows", "reason"]
    assert [line.split("\t")[1] for line in lines[1:]] == ["agree", "disagree", "out_of_scope"]
    code = main(["kb", "concordance", str(civic), "--tables", str(tables_dir), "--strict"])
    capsys.readouterr()
    assert code == 1


# --------------------------------------------------------------------------------------------
# The CI check on the real CIViC export


@pytest.fixture(scope="module")
def civic_export(shared_dir: Path) -> Path:
    folder = shared_dir / "knowledge" / "civic"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the CIViC export to check the knowledge base against")
    found = sorted(folder.glob("*ClinicalEvidenceSummaries.tsv"))
    if not found:
        pytest.skip(f"no *ClinicalEvidenceSummaries.tsv in {folder}")
    return found[-1]


def test_every_civic_difference_has_a_recorded_curator_reason(kb, civic_export):
    tables = concordance.load_tables()
    results = concordance.concordance(kb, tables, concordance.read_civic(civic_export))
    open_items = [
        f"EID{r.evidence_id} {r.status}: {r.reason}" for r in concordance.undecided(results)
    ]
    assert not open_items, (
        "record a curator reason in annotations/concordance/civic_decisions.tsv:\n"
        + "\n".join(open_items)
    )


def test_no_recorded_decision_is_stale(kb, civic_export):
    tables = concordance.load_tables()
    results = concordance.concordance(kb, tables, concordance.read_civic(civic_export))
    assert concordance.stale_decisions(tables, results) == []


def test_the_export_is_read_completely(kb, civic_export):
    tables = concordance.load_tables()
    results = concordance.concordance(kb, tables, concordance.read_civic(civic_export))
    assert len(results) == 122  # 124 ERBB2 items, 2 of them prognostic (SOURCE.txt)
    assert {r.status for r in results} <= set(concordance.STATUSES)


def test_every_civic_item_the_kb_cites_is_in_the_export(kb, civic_export):
    rows = concordance.read_civic(civic_export)
    assert concordance.dangling_civic_citations(kb, rows) == []
    assert concordance.dangling_civic_citations(kb, rows[:1])  # the check does find them
