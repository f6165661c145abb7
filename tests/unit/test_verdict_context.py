"""Issue 11: verdicts in the sample's context, one constructed case per rule (inline VCFs, both builds
where coordinates matter), and properties that hold for every input.

Known answers on NM_004448.4 (GRCh38 = GRCh37 + 1,843,747): I655V c.1963A>G = GRCh38 chr17:39723335,
GRCh37 17:37879588; L755S c.2264T>C = 39723967 / 37880220; T798I c.2393C>T = 39724811 / 37881064;
L869R c.2606T>G = 39725161 / 37881414; YVMA c.2313_2324dup = 39724730 / 37880983 C>CATACGTGATGGC.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erbb2_tki.annotate import annotate_sample
from erbb2_tki.knowledge import EVIDENCE_FILE, load_knowledge
from erbb2_tki.knowledge.interpret import CONTEXTS, VERDICTS, WARNING_CODES, verdicts
from erbb2_tki.knowledge.kb_cli import _pseudo_allele
from erbb2_tki.knowledge.oncotree import OTHER, SAME, SUBTYPE
from erbb2_tki.paths import annotations_dir
from erbb2_tki.verdict_use import GermlinePolicy

SITES = {
    "GRCh38": {
        "I655V": "chr17\t39723335\t.\tA\tG",
        "L755S": "chr17\t39723967\t.\tT\tC",
        "T798I": "chr17\t39724811\t.\tC\tT",
        "L869R": "chr17\t39725161\t.\tT\tG",
        "YVMA": "chr17\t39724730\t.\tC\tCATACGTGATGGC",
    },
    "GRCh37": {
        "I655V": "17\t37879588\t.\tA\tG",
        "L755S": "17\t37880220\t.\tT\tC",
        "T798I": "17\t37881064\t.\tC\tT",
        "L869R": "17\t37881414\t.\tT\tG",
        "YVMA": "17\t37880983\t.\tC\tCATACGTGATGGC",
    },
}
CONTIG = {
    "GRCh38": "##contig=<ID=chr17,length=83257441>",
    "GRCh37": "##contig=<ID=17,length=81195210>",
}
BUILDS = ("GRCh37", "GRCh38")


def _header(build: str, columns: tuple[str, ...]) -> str:
    return "\n".join(
        [
            "##fileformat=VCFv4.2",
            CONTIG[build],
            '##FILTER=<ID=PASS,Description="All filters passed">',
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
            '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(columns),
        ]
    )


def _vcf(tmp_path: Path, build: str, calls: list[tuple[str, ...]], normal: bool = False) -> Path:
    """calls: (allele, tumour GT:AD:DP[, normal GT:AD:DP])."""
    columns = ("TUMOR", "NORMAL") if normal else ("TUMOR",)
    lines = [_header(build, columns)]
    for allele, *samples in calls:
        lines.append(f"{SITES[build][allele]}\t50\tPASS\t.\tGT:AD:DP\t" + "\t".join(samples))
    path = tmp_path / f"{build}.vcf"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _run(tmp_path, build, calls, tumour_type, kb, normal=False, **kwargs):
    vcf = _vcf(tmp_path, build, calls, normal)
    return annotate_sample("S1", vcf, build=build, tumour_type=tumour_type, kb=kb, **kwargs)


def _verdicts(result):
    return {r["drug"]: r for r in result.rows["verdicts"]}


HET = "0/1:60,40:100"


# --------------------------------------------------------------------------------------------
# 1-2. Context and levels in context


@pytest.mark.parametrize("build", BUILDS)
def test_brca_l755s_approvals_in_lung_are_level_c_tier_ii_3b(tmp_path, kb, build):
    result = _run(tmp_path, build, [("L755S", HET)], "BRCA", kb)
    v = _verdicts(result)
    # every evidence row of tki.tsv carries its own level for this sample too
    approvals = [r for r in result.rows["tki"] if r["evidence_type"] == "fda_approval"]
    assert approvals
    assert {(r["level_in_context"], r["amp_tier"], r["oncokb_level"]) for r in approvals} == {
        ("C", "II", "3B")
    }
    for drug in ("zongertinib", "sevabertinib", "trastuzumab deruxtecan"):
        row = v[drug]
        assert row["verdict"] == "sensitive"
        assert row["evidence_level"] == "A"  # the knowledge base's own level: an FDA approval
        assert (row["level_in_context"], row["amp_tier"], row["oncokb_level"]) == ("C", "II", "3B")
        assert row["context"] == "other_tumour_type"


@pytest.mark.parametrize("build", BUILDS)
def test_colorectal_resistance_never_makes_a_breast_sample_resistant(tmp_path, kb, build):
    v = _verdicts(_run(tmp_path, build, [("L755S", HET)], "BRCA", kb))
    # cetuximab: colorectal resistance only -> no_evidence with a note and a warning
    row = v["cetuximab"]
    assert row["verdict"] == "no_evidence"
    assert "other_tumour_resistance:Colorectal Cancer" in row["warnings"].split(";")
    assert "another tumour type" in row["notes"]
    assert row["context"] == ""  # no_evidence: nothing applies to this tumour type
    # trastuzumab: its only row is one colorectal case report of no benefit (KB 2.0.0): evidence
    # against the drug from another tumour type is set aside like resistance (a note, a warning)
    row = v["trastuzumab"]
    assert row["verdict"] == "no_evidence"
    assert "other_tumour_resistance:Colorectal Cancer" in row["warnings"].split(";")
    assert (row["context"], row["level_in_context"]) == ("", "")


def test_lobular_evidence_is_a_subtype_for_a_brca_sample(kb):
    assert kb.oncotree.match("BRCA", "ILC") == SUBTYPE
    assert kb.oncotree.match("ILC", "BRCA") == SAME
    assert kb.oncotree.match("IDC", "ILC") == OTHER


def test_ilc_evidence_for_a_brca_sample_is_subtype(tmp_path):
    # a copy whose only poziotinib L755S row (EV0019) is recorded for ILC
    target = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", target)
    path = target / EVIDENCE_FILE
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("EV0019\t"):
            cells = line.split("\t")
            cells[6] = "ILC"
            lines[i] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")
    kb = load_knowledge(target, check_hash=False)
    v = {x.drug: x for x in verdicts([_one(kb, "L755S", "BRCA")], "BRCA", kb)}
    assert v["poziotinib"].context == "subtype"  # shown, never the same tumour
    assert (v["poziotinib"].level_in_context, v["poziotinib"].amp_tier) == ("D", "II")
    v = {x.drug: x for x in verdicts([_one(kb, "L755S", "ILC")], "ILC", kb)}
    assert v["poziotinib"].context == "same_tumour_type"


def _one(kb, text, tumour_type):
    allele = _pseudo_allele(kb.canonical(text))
    return allele, kb.match(allele, tumour_type)


@pytest.fixture
def kb_breast(tmp_path):
    """A copy of the knowledge base whose neratinib L755S trial row (EV0015) names the main type."""
    target = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", target)
    path = target / EVIDENCE_FILE
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("EV0015\t"):
            cells = line.split("\t")
            cells[6] = "Breast Cancer"
            lines[i] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return load_knowledge(target, check_hash=False)


@pytest.mark.parametrize("code", ["IBC", "MBC", "ILC", "BREAST"])
def test_breast_main_type_evidence_applies_to_ibc_and_metaplastic(kb_breast, code):
    v = {x.drug: x for x in verdicts([_one(kb_breast, "L755S", code)], code, kb_breast)}
    neratinib = v["neratinib"]
    assert neratinib.verdict == "sensitive"
    assert "EV0015" in neratinib.evidence_ids
    assert neratinib.context == "same_tumour_type"
    assert (neratinib.level_in_context, neratinib.amp_tier, neratinib.oncokb_level) == (
        "B",
        "I",
        "3A",
    )


@pytest.mark.parametrize("build", BUILDS)
def test_gist_and_other_release_codes_are_accepted(tmp_path, kb, build):
    result = _run(tmp_path, build, [("L755S", HET)], "gist", kb)
    contexts = {r["context"] for r in result.rows["verdicts"]}
    assert contexts <= {"pan_cancer", "other_tumour_type", "subtype", ""}
    assert "other_tumour_type" in contexts


# --------------------------------------------------------------------------------------------
# 3. Vocabulary: reduced sensitivity and no benefit are never resistant


@pytest.mark.parametrize("build", BUILDS)
def test_afatinib_for_exon20_insertion_in_luad_is_reduced_sensitivity(tmp_path, kb, build):
    v = _verdicts(_run(tmp_path, build, [("YVMA", HET)], "LUAD", kb))
    afatinib = v["afatinib"]
    assert afatinib["verdict"] == "reduced_sensitivity"
    # the class-level limited-benefit row won over the allele-level sensitive case report: said so
    assert "class_outranks_allele:p.Y772_A775dup" in afatinib["warnings"].split(";")
    assert "outranks" in afatinib["reason"] and "EV0032" in afatinib["reason"]
    assert "class-level" in afatinib["notes"]


def test_l755s_neratinib_fulvestrant_is_reduced_sensitivity(kb):
    v = {x.drug: x for x in verdicts([_one(kb, "L755S", "BRCA")], "BRCA", kb)}
    assert v["neratinib + fulvestrant"].verdict == "reduced_sensitivity"
    assert v["neratinib + fulvestrant"].oncokb_level == ""  # OncoKB has no limited-benefit level


def test_no_benefit_rows_give_reduced_sensitivity(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", target)
    path = target / EVIDENCE_FILE
    text = path.read_text()
    # EV0068: exon20_insertion afatinib reduced_sensitivity -> no_benefit
    text = text.replace(
        "afatinib\treduced_sensitivity\tclinical_trial", "afatinib\tno_benefit\tclinical_trial"
    )
    path.write_text(text)
    kb = load_knowledge(target, check_hash=False)
    v = {x.drug: x for x in verdicts([_one(kb, "Y772_A775dup", "LUAD")], "LUAD", kb)}
    assert v["afatinib"].verdict == "reduced_sensitivity"


# --------------------------------------------------------------------------------------------
# 5. Resistance carries over to combinations; resistance alleles are flagged


@pytest.mark.parametrize("build", BUILDS)
def test_t798i_makes_every_neratinib_combination_not_sensitive(tmp_path, kb, build):
    calls = [("T798I", "0/1:80,20:100", "0/0:60,0:60"), ("L869R", HET, "0/0:60,0:60")]
    result = _run(tmp_path, build, calls, "BRCA", kb, normal=True)
    v = _verdicts(result)
    assert v["neratinib"]["verdict"] == "resistant"
    combos = [d for d in v if "neratinib" in kb.drugs[d].components]
    assert "neratinib + fulvestrant + trastuzumab" in combos
    for drug in combos:
        assert v[drug]["verdict"] != "sensitive"
        assert "component_resistant:neratinib" in v[drug]["warnings"].split(";")
    assert v["neratinib + fulvestrant + trastuzumab"]["verdict"] == "conflicting"
    assert {r["origin"] for r in result.rows["alleles"]} == {"somatic"}


@pytest.mark.parametrize("build", BUILDS)
def test_exon20_insertion_with_t798i_flags_the_gatekeeper(tmp_path, kb, build):
    calls = [("YVMA", HET), ("T798I", "0/1:80,20:100")]
    v = _verdicts(_run(tmp_path, build, calls, "LUAD", kb))
    for drug in ("zongertinib", "poziotinib", "trastuzumab deruxtecan"):
        assert "resistance_allele:p.T798I" in v[drug]["warnings"].split(";"), drug
        assert "not assessed" in v[drug]["notes"]
    # neratinib has evidence about T798I itself: no warning
    assert "resistance_allele:p.T798I" not in v["neratinib"]["warnings"]
    # antibodies are not in resistance_allele_warning_kinds
    assert "resistance_allele" not in v.get("trastuzumab", {}).get("warnings", "")


# --------------------------------------------------------------------------------------------
# 6. Germline alleles are listed and set aside


@pytest.mark.parametrize("build", BUILDS)
def test_i655v_at_half_in_the_normal_is_germline(tmp_path, kb, build):
    calls = [("I655V", "0/1:50,50:100", "0/1:50,50:100"), ("L755S", HET, "0/0:80,0:80")]
    result = _run(tmp_path, build, calls, "BRCA", kb, normal=True)
    rows = {r["hgvsp_short"]: r for r in result.rows["alleles"]}
    assert rows["p.I655V"]["origin"] == "germline"
    assert rows["p.I655V"]["used_for_verdict"] == "no:germline"
    assert rows["p.I655V"]["normal_sample"] == "NORMAL"
    assert rows["p.I655V"]["normal_vaf"] == "0.5"
    assert rows["p.L755S"]["origin"] == "somatic"
    assert rows["p.L755S"]["used_for_verdict"] == "yes"
    assert all("I655V" not in r["alleles"] for r in result.rows["verdicts"])


@pytest.mark.parametrize(
    ("normal", "policy", "origin"),
    [
        ("0/0:75,25:100", GermlinePolicy(), "germline"),  # VAF 0.25 >= 0.2, depth 100
        ("0/0:75,25:100", GermlinePolicy(normal_vaf=0.3), "somatic"),
        ("0/0:3,1:4", GermlinePolicy(), "unknown"),  # too few reads to say
        ("0/1:3,1:4", GermlinePolicy(), "germline"),  # the caller's genotype carries the ALT
        ("0/0:60,0:60", GermlinePolicy(), "somatic"),
    ],
)
def test_normal_column_policy(tmp_path, kb, normal, policy, origin):
    result = _run(
        tmp_path, "GRCh38", [("L755S", HET, normal)], "BRCA", kb, normal=True, germline=policy
    )
    row = result.rows["alleles"][0]
    assert row["origin"] == origin
    assert (row["used_for_verdict"] == "no:germline") == (origin == "germline")


@pytest.mark.parametrize("build", BUILDS)
def test_listed_polymorphism_without_a_normal(tmp_path, kb, build):
    calls = [("I655V", "0/1:50,50:100")]
    row = _run(tmp_path, build, calls, "BRCA", kb).rows["alleles"][0]
    assert (row["origin"], row["used_for_verdict"]) == ("germline", "no:germline")
    assert "germline_polymorphism:rs1136201" in row["flags"]
    kept = _run(tmp_path, build, calls, "BRCA", kb, germline=GermlinePolicy(exclude_listed=False))
    row = kept.rows["alleles"][0]
    assert (row["origin"], row["used_for_verdict"]) == ("unknown", "yes")


# --------------------------------------------------------------------------------------------
# 8. Column contract

CONTRACT = [
    "sample",
    "drug",
    "drug_kind",
    "verdict",
    "level_in_context",
    "amp_tier",
    "oncokb_level",
    "context",
    "evidence_level",
    "alleles",
    "warnings",
    "reason",
    "citations",
    "evidence_ids",
    "kb_version",
    "kb_hash",
]


def test_verdicts_tsv_follows_the_contract(tmp_path, kb):
    out = tmp_path / "v.tsv"
    _run(tmp_path, "GRCh38", [("L755S", HET)], "BRCA", kb, out_verdicts=out)
    header = out.read_text().splitlines()[0].split("\t")
    assert header[: len(CONTRACT)] == CONTRACT
    for line in out.read_text().splitlines()[1:]:
        row = dict(zip(header, line.split("\t"), strict=True))
        assert row["verdict"] in VERDICTS
        assert row["context"] in (*CONTEXTS, "")
        assert (
            row["amp_tier"]
            == {"A": "I", "B": "I", "C": "II", "D": "II", "": ""}[row["level_in_context"]]
        )
        assert row["oncokb_level"] in ("1", "2", "3A", "3B", "4", "R1", "R2", "")
        for w in filter(None, row["warnings"].split(";")):
            assert w.split(":", 1)[0] in WARNING_CODES
        if row["verdict"] == "no_evidence":
            assert row["level_in_context"] == row["context"] == ""


# --------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_context_is_one_of_five_and_same_iff_ancestor_or_main_type(kb, data):
    tree = kb.oncotree
    codes = sorted(c for c in tree.nodes if c != "TISSUE")
    sample = data.draw(st.sampled_from([*codes, None]))
    evidence = data.draw(st.sampled_from([*codes, *sorted(tree.main_types), "pan"]))
    context = tree.match(sample, evidence)
    assert context in CONTEXTS
    if sample is None:
        assert context in ("unknown", "pan_cancer")
        return
    if evidence == "pan":
        assert context == "pan_cancer"
        return
    if evidence in tree.nodes:
        same = evidence in tree.lineage(sample)
    else:
        same = tree.nodes[sample].main_type == evidence
    assert (context == SAME) == same
    assert (context == SUBTYPE) == (
        evidence in tree.nodes and evidence != sample and sample in tree.lineage(evidence)
    )


RESPONSES = ("sensitive", "reduced_sensitivity", "no_benefit", "resistant", "unclear")
TYPES = (
    "fda_approval",
    "guideline",
    "clinical_trial",
    "retrospective_study",
    "case_report",
    "preclinical_in_vivo",
    "preclinical_in_vitro",
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(RESPONSES),
            st.sampled_from(TYPES),
            st.sampled_from(CONTEXTS),
            st.sampled_from(("allele", "codon", "class:oncogenic")),
            st.sampled_from(("neratinib", "neratinib + fulvestrant + trastuzumab", "afatinib")),
            st.sampled_from((0, 1)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_resistant_only_from_resistant_rows_in_the_tumour_type(kb, rows):
    """For any evidence: a verdict is resistant only when a deciding row is resistant and in the
    sample's tumour type (code, ancestor, main type) or pan-cancer (allele-level resistance of a
    component carries over only as far as conflicting); levels agree with their context."""
    template = kb.match(_pseudo_allele(kb.canonical("L755S")), "BRCA")[0]
    labels = ("L755S", "L869R")
    per_allele: dict[str, list] = {label: [] for label in labels}
    for i, (response, etype, context, basis, drug, which) in enumerate(rows):
        per_allele[labels[which]].append(
            replace(
                template,
                evidence_id=f"EV9{i:03d}",
                drug=drug,
                drug_kind=kb.drugs[drug].kind,
                response=response,
                evidence_type=etype,
                evidence_level=kb.levels.type_level[etype],
                tumour_type_match=context,
                match_basis=basis,
            )
        )
    sample = [
        (_pseudo_allele(kb.canonical(label)), matches) for label, matches in per_allele.items()
    ]
    by_id = {m.evidence_id: m for _, ms in sample for m in ms}
    for v in verdicts(sample, "BRCA", kb):
        assert v.verdict in VERDICTS
        if v.verdict == "resistant":
            deciding = [by_id[e] for e in v.evidence_ids]
            assert any(
                m.response == "resistant"
                and m.tumour_type_match in ("same_tumour_type", "pan_cancer")
                for m in deciding
            )
        if v.verdict == "reduced_sensitivity":
            # limited benefit seen only in another tumour type is a note, never the verdict
            deciding = [by_id[e] for e in v.evidence_ids]
            assert any(
                m.response in ("reduced_sensitivity", "no_benefit")
                and m.tumour_type_match in ("same_tumour_type", "pan_cancer")
                for m in deciding
            )
        if v.level_in_context in ("A", "B"):
            assert v.context in ("same_tumour_type", "pan_cancer")
        if v.verdict != "no_evidence":
            assert v.amp_tier == ("I" if v.level_in_context in ("A", "B") else "II")
        for w in v.warnings:
            assert w.split(":", 1)[0] in WARNING_CODES


def test_listed_polymorphism_absent_from_a_deep_normal_is_somatic(tmp_path, kb):
    calls = [("I655V", "0/1:50,50:100", "0/0:60,0:60")]
    row = _run(tmp_path, "GRCh38", calls, "BRCA", kb, normal=True).rows["alleles"][0]
    assert (row["origin"], row["used_for_verdict"]) == ("somatic", "yes")


@pytest.mark.parametrize(
    ("options", "origin"), [([], "germline"), (["--keep-listed-polymorphisms"], "unknown")]
)
def test_cli_annotate_germline_options(tmp_path, options, origin):
    from erbb2_tki.cli import main

    vcf = _vcf(tmp_path, "GRCh38", [("I655V", "0/1:50,50:100")])
    out = tmp_path / "alleles.tsv"
    status = main(
        [
            "annotate",
            str(vcf),
            "--build",
            "GRCh38",
            "--tumor-type",
            "BRCA",
            "--out-tsv",
            str(out),
            "--germline-normal-vaf",
            "0.3",
            "--germline-normal-min-depth",
            "20",
            *options,
        ]
    )
    assert status == 0
    lines = out.read_text().splitlines()
    row = dict(zip(lines[0].split("\t"), lines[1].split("\t"), strict=True))
    assert row["origin"] == origin


def test_summary_best_tier_and_warnings():
    from erbb2_tki.outputs import tables

    alleles = [
        {"hgvsp_short": "p.I655V", "origin": "germline", "used_for_verdict": "no:germline"},
        {"hgvsp_short": "p.L755S", "origin": "somatic", "used_for_verdict": "yes"},
    ]
    verdict_rows = [
        {
            "drug": "cetuximab",
            "verdict": "no_evidence",
            "warnings": "other_tumour_resistance:COADREAD",
        },
        {
            "drug": "zongertinib",
            "verdict": "sensitive",
            "amp_tier": "II",
            "warnings": "other_tumour_resistance:BLCA;resistance_allele:p.T798I",
        },
        {"drug": "x", "verdict": "conflicting", "amp_tier": "I", "warnings": ""},
    ]
    row = tables.summary_row("S", {"status": "ok"}, alleles, [], verdict_rows, [])
    assert row["best_tier"] == "II"  # a conflicting verdict's tier does not count
    assert row["warnings"].split(";") == [
        "germline:p.I655V",
        "other_tumour_resistance:COADREAD,BLCA",
        "resistance_allele:p.T798I",
    ]
    assert row["alleles_not_used"] == "p.I655V (germline)"
    assert tables.best_tier([{"verdict": "resistant", "amp_tier": "I"}]) == "I"
    assert tables.best_tier([]) == ""
