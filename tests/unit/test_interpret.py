"""Per-sample, per-drug verdicts: the rules of verdict_rules.yaml applied to real knowledge-base rows."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki.knowledge import load_knowledge
from erbb2_tki.knowledge.interpret import verdicts
from erbb2_tki.knowledge.kb_cli import _pseudo_allele


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _sample(kb, texts, tumour_type):
    alleles = [_pseudo_allele(kb.canonical(t)) for t in texts]
    return [(a, kb.match(a, tumour_type)) for a in alleles]


def _by_drug(kb, texts, tumour_type, **kwargs):
    result = verdicts(_sample(kb, texts, tumour_type), tumour_type, kb, **kwargs)
    return {v.drug: v for v in result}


def test_l755s_in_breast_lapatinib_resistant_neratinib_sensitive(kb):
    v = _by_drug(kb, ["L755S"], "BRCA")
    assert v["lapatinib"].verdict == "resistant"
    # KB 2.0.0: Bose 2013 (breast models, EV0013) cites its CIViC item; Kancha's Ba/F3 row is pan (EV0082)
    assert v["lapatinib"].citations == "PMID:23220880;CIViC:EID241"
    assert v["lapatinib"].tumour_type_match == "same_tumour_type"
    neratinib = v["neratinib"]
    assert neratinib.verdict == "sensitive"
    assert (neratinib.evidence_level, neratinib.tumour_type_match) == ("B", "same_tumour_type")
    assert neratinib.alleles == ("p.L755S",)
    assert "EV0015" in neratinib.reason
    # the weaker 2019 resistance row is named, never hidden
    assert "weaker evidence against" in neratinib.reason and "EV0018" in neratinib.reason


def test_lobular_sample_uses_breast_evidence(kb):
    assert _by_drug(kb, ["L755S"], "ILC")["neratinib"].verdict == "sensitive"


def test_l755s_without_tumour_type_is_conflicting_for_neratinib(kb):
    # no tumour type: breast benefit and bladder/colorectal non-response weigh the same
    v = _by_drug(kb, ["L755S"], None)["neratinib"]
    assert v.verdict == "conflicting"
    assert v.tumour_type_match == "unknown"


def test_same_tumour_type_outranks_other_tumour_types(kb):
    # exon 20 insertion in LUAD, KB 2.0.0: no benefit from neratinib alone in NSCLC (EV0067, same, B)
    # against OncoKB's 3A for the TKD list in NSCLC (EV0076, same, B): both outrank the pan-cancer
    # SUMMIT responses (EV0034), and the two same-tumour rows tie, so the verdict says so
    lung = _by_drug(kb, ["A775_G776insYVMA"], "LUAD")["neratinib"]
    assert lung.verdict == "conflicting"
    assert lung.tumour_type_match == "same_tumour_type"
    assert set(lung.evidence_ids) == {"EV0067", "EV0076"}
    # the same allele in breast: breast neratinib benefit (same, B) outranks lung non-response
    assert _by_drug(kb, ["Y772_A775dup"], "BRCA")["neratinib"].verdict == "sensitive"


def test_colorectal_sample_is_resistant_to_single_agent_neratinib(kb):
    # 2.0.0 records the trial's lack of benefit as no_benefit: reduced_sensitivity, never resistant
    v = _by_drug(kb, ["V777L"], "COAD")
    assert v["neratinib"].verdict == "reduced_sensitivity"
    assert v["neratinib"].tumour_type_match == "same_tumour_type"
    assert v["neratinib + trastuzumab"].verdict == "sensitive"


def test_acquired_t798i_overrides_l869r_sensitivity_for_neratinib(kb):
    v = _by_drug(kb, ["L869R", "T798I"], "BRCA")
    neratinib = v["neratinib"]
    assert neratinib.verdict == "resistant"
    assert neratinib.alleles == ("p.T798I",)
    assert "overrides sensitivity from p.L869R" in neratinib.reason
    assert neratinib.citations.split(";")[0] == "PMID:28274957"
    # afatinib works against T798I in models (EV0049), but KB 2.0.0 records NCI-MATCH's no benefit
    # across ERBB2-mutant tumours (EV0086, pan, B), which is all there is for L869R: not sensitive
    assert v["afatinib"].verdict != "sensitive"
    assert "EV0086" in v["afatinib"].evidence_ids
    # L869R alone: sensitive
    assert _by_drug(kb, ["L869R"], "BRCA")["neratinib"].verdict == "sensitive"


def test_allele_specific_resistance_sets_aside_class_sensitivity(kb):
    # T798I alone in breast cancer: the allele's own resistance (BRCA case report) sets aside the
    # class-level sensitivity rows
    v = _by_drug(kb, ["T798I"], "BRCA")["neratinib"]
    assert v.verdict == "resistant"
    assert "set aside" in v.reason
    # in cervical cancer that resistance was seen in another tumour type: it cannot make neratinib
    # resistant, but it still sets aside the class-level guideline (oncogenic -> neratinib, CESC, A)
    v = _by_drug(kb, ["T798I"], "CESC")["neratinib"]
    assert v.verdict not in ("resistant", "sensitive")
    (warning,) = [w for w in v.warnings if w.startswith("other_tumour_resistance:")]
    assert "Breast Cancer" in warning.split(":", 1)[1].split(",")


def test_reduced_sensitivity_counts_against_the_drug(kb):
    # MutHER: L755 alterations had lower benefit from neratinib + fulvestrant (EV0017, breast, B).
    # (KB 1.0.0 used V773A and lapatinib; 2.0.0 reads Kancha's IC50 as sensitive, as the paper does.)
    v = _by_drug(kb, ["L755S"], "BRCA")["neratinib + fulvestrant"]
    assert v.verdict == "reduced_sensitivity"  # against the drug, never shown as resistant
    assert "reduced_sensitivity" in v.reason and "EV0017" in v.reason


def test_only_unclear_evidence_is_conflicting(kb):
    v = _by_drug(kb, ["D769H"], "BRCA")["lapatinib"]
    assert v.verdict == "conflicting"
    assert "only unclear evidence" in v.reason


def test_gsp_duplication_in_lung(kb):
    # G778_P780dup in NSCLC: dacomitinib responses (case series, same) only; neratinib: the exon-20
    # class no-benefit row and OncoKB's 3A for the TKD list, both NSCLC level B (KB 2.0.0) -> conflicting
    v = _by_drug(kb, ["P780_Y781insGSP"], "NSCLC")
    assert v["dacomitinib"].verdict == "sensitive"
    assert v["neratinib"].verdict == "conflicting"


def test_truncating_allele_is_not_a_target(kb):
    v = _by_drug(kb, ["Y772Ifs*9"], "BRCA")
    assert set(v) == set(kb.rules.always_report)
    assert all(x.verdict == "no_evidence" for x in v.values())
    assert any("truncating: not a drug target" in n for n in v["neratinib"].notes)


def test_truncating_allele_does_not_hide_a_driver(kb):
    v = _by_drug(kb, ["Y772Ifs*9", "L755S"], "BRCA")
    assert v["lapatinib"].verdict == "resistant"
    assert v["lapatinib"].alleles == ("p.L755S",)


def test_amplification_is_noted_as_a_different_biomarker(kb):
    v = _by_drug(kb, ["L755S"], "BRCA", amplification=True)
    for verdict in v.values():
        assert any(
            "amplification" in note and "different biomarker" in note for note in verdict.notes
        )
    assert "amplification" not in v["lapatinib"].reason
    assert not any("amplification" in n for n in _by_drug(kb, ["L755S"], "BRCA")["lapatinib"].notes)


def test_no_alleles_gives_no_evidence_for_the_always_report_drugs(kb):
    result = verdicts([], "BRCA", kb)
    assert [v.drug for v in result] == list(kb.rules.always_report)
    assert {v.verdict for v in result} == {"no_evidence"}


def test_every_drug_with_evidence_gets_one_verdict_and_always_report_drugs_appear_once(kb):
    sample = _sample(kb, ["L755S", "V777L"], "BRCA")
    result = verdicts(sample, "BRCA", kb)
    drugs = [v.drug for v in result]
    assert len(drugs) == len(set(drugs))
    assert {m.drug for _, ms in sample for m in ms} | set(kb.rules.always_report) == set(drugs)


def test_as_row(kb):
    row = _by_drug(kb, ["L755S"], "BRCA")["lapatinib"].as_row()
    # the verdicts.tsv contract after sample (annotate adds kb_version and kb_hash)
    assert list(row)[:13] == [
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
    ]
    assert row["alleles"] == "p.L755S" and row["evidence_ids"] == "EV0013"


ALLELES = ["L755S", "T798I", "L869R", "Y772_A775dup", "V777L", "D769H", "S310F", "V773A", "H878Y"]
TUMOURS = [None, "BRCA", "ILC", "LUAD", "COADREAD", "BLCA", "CESC"]


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.sampled_from(ALLELES), min_size=1, max_size=3, unique=True),
    tumour=st.sampled_from(TUMOURS),
    seed=st.integers(0, 1000),
)
def test_verdicts_do_not_depend_on_row_or_allele_order(texts, tumour, seed):
    kb = load_knowledge()
    sample = _sample(kb, texts, tumour)
    shuffled = [(a, random.Random(seed).sample(ms, len(ms))) for a, ms in sample]
    random.Random(seed).shuffle(shuffled)

    def key(vs):
        return sorted((v.verdict, v.drug, v.evidence_level, v.tumour_type_match) for v in vs)

    assert key(verdicts(sample, tumour, kb)) == key(verdicts(shuffled, tumour, kb))


@settings(max_examples=60, deadline=None)
@given(
    text=st.sampled_from(ALLELES),
    tumour=st.sampled_from(TUMOURS),
    data=st.data(),
)
def test_resistance_at_the_same_or_a_stronger_rank_is_never_hidden(text, tumour, data):
    """For one allele and any subset of its rows: 'sensitive' only when every resistance-side row
    that counts is strictly weaker (tumour-type match, then level) than the best sensitivity row."""
    kb = load_knowledge()
    allele = _pseudo_allele(kb.canonical(text))
    matches = kb.match(allele, tumour)
    subset = data.draw(st.lists(st.sampled_from(matches), unique=True)) if matches else []
    rules = kb.rules

    def rank(m):
        return (rules.tumour_type_match_rank[m.tumour_type_match], kb.level_rank(m.evidence_level))

    def side(m):
        return rules.response_side[m.response]

    for v in verdicts([(allele, subset)], tumour, kb):
        rows = [m for m in subset if m.drug == v.drug]
        res = [m for m in rows if side(m) == "resistance"]
        sens = [m for m in rows if side(m) == "sensitivity"]
        if any(m.basis in rules.specific_match_bases for m in res):
            sens = [m for m in sens if m.basis in rules.specific_match_bases]
        if v.verdict == "sensitive":
            assert sens
            assert all(rank(r) < max(map(rank, sens)) for r in res)
        if v.verdict == "resistant":
            assert res
