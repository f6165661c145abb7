"""Every real caller VCF in ../shared/dialects through the workflow, in one batch: as given (a
correct "no ERBB2 call" row) and with L755S spliced into one of the file's own records (named,
tagged, from the right tumour column, with the caller's VAF).

The two files whose headers carry no build evidence get the build in the sheet, as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import run_snakemake

from dialect_cases import DIALECTS, splice

pytestmark = [pytest.mark.workflow, pytest.mark.dialects]

L755S_38 = 39723967
OFFSET_37 = 1_843_747


def _safe(name: str) -> str:
    return name.split(".")[0].replace("-", "_")


@pytest.fixture(scope="module")
def dialect_run(dialects_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    inputs = tmp_path_factory.mktemp("dialect_inputs")
    rows = ["sample\tvcf\ttumor_sample\tnormal_sample\ttumor_type\tbuild"]
    for name, case in sorted(DIALECTS.items()):
        build = "" if case.build else case.declared
        rows.append(f"{_safe(name)}\t{dialects_dir / name}\t\t\tBRCA\t{build}")
        if case.event is None and not case.vaf_source.startswith("strelka"):
            folder = inputs / _safe(name)
            folder.mkdir()
            pos = L755S_38 if case.declared == "GRCh38" else L755S_38 - OFFSET_37
            spliced, _ = splice(dialects_dir / name, case, folder, pos=pos, ref_alt=("T", "C"))
            rows.append(f"{_safe(name)}_L755S\t{spliced}\t\t\tBRCA\t{build}")
    sheet = inputs / "samples.tsv"
    sheet.write_text("\n".join(rows) + "\n")
    workdir = tmp_path_factory.mktemp("dialect_run")
    run = run_snakemake(workdir, config={"samples": sheet})
    assert run.returncode == 0, run.output[-4000:]
    return workdir


def test_every_dialect_as_given_is_ok_with_no_erbb2_call(dialect_run: Path) -> None:
    summary = pd.read_csv(
        dialect_run / "results/batch/summary.tsv", sep="\t", dtype=str, keep_default_na=False
    ).set_index("sample")
    for name, case in DIALECTS.items():
        row = summary.loc[_safe(name)]
        assert row["status"] == "ok", (name, row["reason"])
        assert row["n_alleles"] == "0", name
        assert row["build"] == case.declared, name
        assert row["tumour_sample"] == case.tumour, name


def test_every_spliced_dialect_gives_l755s_with_the_callers_vaf(dialect_run: Path) -> None:
    checked = 0
    for name, case in DIALECTS.items():
        if case.event is not None or case.vaf_source.startswith("strelka"):
            continue
        table = dialect_run / f"results/tables/{_safe(name)}_L755S.alleles.tsv"
        alleles = pd.read_csv(table, sep="\t", dtype=str, keep_default_na=False)
        assert list(alleles["hgvsp_short"]) == ["p.L755S"], name
        row = alleles.iloc[0]
        assert "lapatinib:resistant" in row["kb_drugs"].split(";"), name
        assert row["tumour_sample"] == case.tumour, name
        assert float(row["vaf"]) == pytest.approx(case.vaf, abs=5e-5), name
        assert int(row["depth"]) == case.depth, name
        checked += 1
    assert checked == 10
