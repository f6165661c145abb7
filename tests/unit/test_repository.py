"""Repository conventions: licence, catalog metadata, and a CI workflow that does what .ci/run does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
CI_WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "ci.yml"


def test_licence_is_mit_and_declared() -> None:
    text = (PROJECT_DIR / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert 'license = { file = "LICENSE" }' in (PROJECT_DIR / "pyproject.toml").read_text()


def test_catalog_metadata_has_usage() -> None:
    catalog = yaml.safe_load((PROJECT_DIR / ".snakemake-workflow-catalog.yml").read_text())
    usage = catalog["usage"]
    assert "samples=" in usage["mandatory-flags"]["flags"]
    assert usage["mandatory-flags"]["desc"].strip()
    assert set(usage["software-stack-deployment"]) >= {"conda"}
    assert usage["report"] is True


def test_ci_workflow_runs_the_ci_script() -> None:
    workflow = yaml.safe_load(CI_WORKFLOW.read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in steps)
    assert any("python-version" in step.get("with", {}) for step in steps)


def test_ci_workflow_passes_actionlint() -> None:
    # on PATH, or beside this interpreter (a venv used without activating it)
    actionlint = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    )
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install -e '.[test]' brings it)")
    proc = subprocess.run(
        [actionlint, "-no-color", str(CI_WORKFLOW)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
