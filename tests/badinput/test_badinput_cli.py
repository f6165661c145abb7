"""The bad-input corpus through the command line: `erbb2-tki annotate` on every case.

Each case must give exit 0 and exactly the expected alleles and structural events (never a
silent 0), the flags and notes that say what was unusual, and no traceback; the formula case
must write no cell a spreadsheet would run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from corpus import CASES, Case, write_case

from erbb2_tki.cli import main
from erbb2_tki.outputs import tables
from erbb2_tki.vcf import extract


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_finds_every_record_or_says_why(tmp_path: Path, case: Case, capsys) -> None:
    vcf = write_case(case, tmp_path / "in")
    out = tmp_path / "alleles.tsv"
    args = ["annotate", str(vcf), "--out-tsv", str(out), "--label", case.name]
    if case.build:
        args += ["--build", case.build]
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert code == 0, captured.err
    rows = tables.read_records(out)
    assert [r["hgvsp_short"] for r in rows] == list(case.alleles), captured.out
    if case.events:
        assert captured.out.count("possible_amplification") == case.events
    for flag in case.flags:
        assert flag in rows[0]["flags"].split(";")
    if case.note:  # printed by the CLI, and recorded by extraction
        assert f"{case.name}: note: " in captured.out and case.note in captured.out
        result = extract.extract_sample(vcf, tmp_path / "x.vcf.gz", build=case.build or None)
        assert case.note in result.note, result.note


def test_formula_text_is_neutralised_in_the_tsv(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "formula")
    vcf = write_case(case, tmp_path / "in")
    out = tmp_path / "alleles.tsv"
    assert main(["annotate", str(vcf), "--out-tsv", str(out), "--label", "S"]) == 0
    text = out.read_text()
    cells = [cell for line in text.splitlines()[1:] for cell in line.split("\t")]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert '\'=HYPERLINK("x")' in cells  # the FILTER value, prefixed
    assert "'=cmd|' /C calc'!A0" in cells  # the tumour column's name, prefixed
    row = tables.read_records(out)[0]
    assert row["filter"] == '=HYPERLINK("x")'  # readers get the original text back
