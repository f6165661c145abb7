"""A deployed copy: `snakemake -s PATH/TO/Snakefile --directory RUN_DIR` with no config of its own.

The default config/config.yaml is found beside the Snakefile, every output lands under
RUN_DIR/results, and nothing is written into the checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import SNAKEFILE, snakemake_env

pytestmark = pytest.mark.workflow


def test_deployed_snakefile_runs_in_another_directory(example_sheet: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run dir"  # a space, as in many shared-drive paths
    run_dir.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(SNAKEFILE),
            "--directory",
            str(run_dir),
            "--config",
            f"samples={example_sheet}",
            "--cores",
            "2",
        ],
        cwd=tmp_path,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = (run_dir / "results/batch/summary.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in summary[1:]] == [
        "S01",
        "S02",
        "S03",
        "S04",
        "S05",
        "S06",
    ]
    assert not (SNAKEFILE.parent / "results").exists() or not any(
        p.stat().st_mtime > run_dir.stat().st_mtime
        for p in (SNAKEFILE.parent / "results").rglob("*")
    )
