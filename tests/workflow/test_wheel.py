"""The wheel, installed into a fresh virtual environment, runs the bundled example in an empty folder.

This is what a core does outside a checkout: `pip install erbb2-tki` then `erbb2-tki run --example`.
The wheel is built from a copy of the checkout's sources (so the build leaves nothing in the
checkout), installed into a new venv, and run in an empty directory with only the venv's own
`erbb2-tki` (no PATH, no ERBB2_TKI_ANNOTATIONS); its tables must be byte-identical to the
checkout's run of the same example.

In CI (CI set) the wheel is installed with its dependencies, as a user would, which also checks
that the wheel declares every dependency it needs. Locally, to keep the test quick, the new venv
borrows this environment's installed dependencies through a .pth file (the wheel itself is still
installed on its own, with --no-deps, and `pip check` confirms its requirements are met).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from workflow_helpers import PROJECT_DIR, Run

pytestmark = pytest.mark.workflow

# What the wheel is built from (the rest of the checkout, tests and benchmarks, is not shipped).
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "Snakefile",
    "workflow",
    "annotations",
    "config",
)
# Tables compared byte for byte with the checkout's run (samples.tsv and the verdict page hold
# absolute paths of the run and differ by design).
COMPARED = (
    "results/batch/summary.tsv",
    "results/batch/drug_matrix.tsv",
    "results/batch/alleles.tsv",
    "results/batch/evidence.tsv",
    "results/batch/verdicts.tsv",
    "results/batch/structural.tsv",
    "results/batch/erbb2_tki_mqc.tsv",
    "results/batch/summary.xlsx",
)


def _clean_env(venv: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ERBB2_TKI_ANNOTATIONS", "PYTHONPATH", "VIRTUAL_ENV")
    }
    # Only system folders on PATH: erbb2-tki run must find its own interpreter by itself.
    env["PATH"] = os.pathsep.join(("/usr/local/bin", "/usr/bin", "/bin"))
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> Run:
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, cwd)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the freshly built wheel installed; returns its bin/ folder."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        path = PROJECT_DIR / name
        if path.is_dir():
            shutil.copytree(
                path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(path, source / name)
    dist = base / "dist"
    build = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(dist), str(source)],
        base,
        dict(os.environ),
    )  # fmt: skip
    assert build.returncode == 0, build.output[-3000:]
    (wheel,) = dist.glob("erbb2_tki-*.whl")

    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], base, dict(os.environ))
    assert made.returncode == 0, made.output
    python = venv / "bin" / "python"
    if os.environ.get("CI"):
        install = _run([str(python), "-m", "pip", "install", "-q", str(wheel)], base, os.environ)
    else:
        purelib = _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            base,
            dict(os.environ),
        ).stdout.strip()
        (Path(purelib) / "_borrowed_dependencies.pth").write_text(
            sysconfig.get_paths()["purelib"] + "\n"
        )
        install = _run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], base, os.environ
        )
    assert install.returncode == 0, install.output[-3000:]
    check = _run([str(python), "-m", "pip", "check"], base, dict(os.environ))
    assert "erbb2-tki" not in check.output.lower(), check.output
    return venv / "bin"


def test_wheel_carries_the_workflow_and_finds_it_through_the_package(wheel_venv: Path) -> None:
    probe = _run(
        [
            str(wheel_venv / "python"),
            "-c",
            "import erbb2_tki, erbb2_tki.paths as p; print(erbb2_tki.__file__); "
            "print(p.workflow_root()); print(p.snakefile().is_file())",
        ],
        wheel_venv,
        _clean_env(wheel_venv),
    )
    assert probe.returncode == 0, probe.output
    package_file, root, has_snakefile = probe.stdout.split("\n")[:3]
    assert str(wheel_venv.parent) in package_file  # the wheel's copy, not the checkout
    assert root.endswith("erbb2_tki/_workflow")
    assert has_snakefile == "True"
    for relative in (
        "annotations/knowledge/evidence.tsv",
        "annotations/transcripts/NM_004448.4.yaml",
        "workflow/schemas/config.schema.yaml",
        "workflow/rules/common.smk",
        "workflow/report/captions/workflow.rst",
        "workflow/profiles/default/config.yaml",
        "config/config.yaml",
        "config/samples.tsv",
    ):
        assert (Path(root) / relative).is_file(), relative


def test_wheel_kb_show_and_annotations_override(wheel_venv: Path, tmp_path: Path) -> None:
    env = _clean_env(wheel_venv)
    shown = _run([str(wheel_venv / "erbb2-tki"), "kb", "show", "L755S"], tmp_path, env)
    assert shown.returncode == 0, shown.output
    assert "p.L755S" in shown.stdout
    missing = _run(
        [str(wheel_venv / "erbb2-tki"), "kb", "show", "L755S"],
        tmp_path,
        {**env, "ERBB2_TKI_ANNOTATIONS": str(tmp_path / "nowhere")},
    )
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "ERBB2_TKI_ANNOTATIONS" in missing.stderr and "nowhere" in missing.stderr


def test_wheel_runs_the_example_in_an_empty_directory_like_the_checkout(
    wheel_venv: Path, tmp_path: Path, example_run: Run
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = _run(
        [str(wheel_venv / "erbb2-tki"), "run", "--example", "--cores", "2"],
        empty,
        _clean_env(wheel_venv),
    )
    assert run.returncode == 0, run.output[-4000:]
    # The default profile is in effect (rerun-incomplete, keep-going).
    assert "Using workflow specific profile" in run.output
    assert "--workflow-profile" in run.stderr.splitlines()[0]
    for relative in COMPARED:
        ours = (empty / relative).read_bytes()
        theirs = (example_run.workdir / relative).read_bytes()
        assert hashlib.sha256(ours).hexdigest() == hashlib.sha256(theirs).hexdigest(), relative
    tables = sorted(p.name for p in (example_run.workdir / "results/tables").iterdir())
    assert sorted(p.name for p in (empty / "results/tables").iterdir()) == tables
    for name in tables:
        ours_bytes = (empty / "results/tables" / name).read_bytes()
        theirs_bytes = (example_run.workdir / "results/tables" / name).read_bytes()
        if name.endswith(".kb_view.json"):
            # Re-analysis bookkeeping: its input digest covers the sheet row, whose vcf path is
            # the wheel's bundled copy here and the checkout's there; everything else is equal.
            ours_view, theirs_view = json.loads(ours_bytes), json.loads(theirs_bytes)
            assert ours_view.pop("input") != "" and theirs_view.pop("input") != ""
            assert ours_view == theirs_view, name
            continue
        assert ours_bytes == theirs_bytes, name
    assert (empty / "results/report/verdicts.html").is_file()
    # Nothing else was written outside the run folder's results/ and .snakemake/.
    assert sorted(p.name for p in empty.iterdir()) == [".snakemake", "results"]
