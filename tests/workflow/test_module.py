"""The workflow included in a core's own Snakefile with Snakemake's `module` directive.

A real outer workflow in another folder: `module erbb2_tki: snakefile: ...; config: {"samples":
...}` with nothing but the sheet (every other key comes from the schema's defaults), `use rule *
from erbb2_tki as erbb2_*`, and a rule of its own that reads the module's summary. The paths the
module uses (annotations/, captions, schemas) must be its own, not the outer workflow's, and its
local rules must stay local under the prefix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import SNAKEFILE, Run, snakemake_env

pytestmark = pytest.mark.workflow

OUTER = """\
module erbb2_tki:
    snakefile:
        {snakefile!r}
    config:
        {{"samples": {sheet!r}}}


use rule * from erbb2_tki as erbb2_*


rule count_ok:
    input:
        "results/batch/summary.tsv",
    output:
        "core/ok_samples.txt",
    shell:
        "awk -F'\\\\t' 'NR > 1 && $2 == \\"ok\\"' {{input}} | wc -l > {{output}}"


rule all:
    default_target: True
    input:
        rules.erbb2_all.input,
        "core/ok_samples.txt",


print("LOCAL_RULES=" + ",".join(sorted(workflow._localrules)))
"""


def test_module_with_a_partial_config_runs_from_another_workflow(
    tmp_path: Path, example_sheet: Path, example_run: Run
) -> None:
    outer = tmp_path / "core_pipeline"
    outer.mkdir()
    (outer / "Snakefile").write_text(
        OUTER.format(snakefile=str(SNAKEFILE), sheet=str(example_sheet))
    )
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--printshellcmds"],
        cwd=outer,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    # Local rules are local under the prefix, and Snakemake has nothing to warn about them.
    assert "LOCAL_RULES=erbb2_check_batch" in output
    assert "localrules" not in output.lower()
    # The module's own annotations/, not the outer workflow's folder.
    assert f"--annotations {SNAKEFILE.parent / 'annotations'}" in output
    assert (outer / "core/ok_samples.txt").read_text().strip() == "6"
    for table in ("summary.tsv", "verdicts.tsv", "alleles.tsv", "drug_matrix.tsv"):
        assert (outer / "results/batch" / table).read_bytes() == (
            example_run.workdir / "results/batch" / table
        ).read_bytes(), table
