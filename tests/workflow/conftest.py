"""Fixtures for the workflow tests: the example batch, copied and run once per session.

Every test in this folder runs Snakemake (or builds and installs the wheel), so every one carries
the `workflow` marker, whether or not its module says so: `pytest -m "not workflow"` is the fast
loop (README, CONTRIBUTING.md). Tests that only read the example's outputs take `example_run`,
so the whole session runs the example once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_helpers import EXAMPLE_CONFIG, Run, copy_example, run_snakemake


@pytest.fixture(scope="session")
def example_sheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("example_inputs"))


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory, example_sheet: Path) -> Run:
    """The bundled example, run once (in shards of about two samples) for the tests to read."""
    workdir = tmp_path_factory.mktemp("example_run")
    run = run_snakemake(workdir, config={"samples": example_sheet, **EXAMPLE_CONFIG})
    assert run.returncode == 0, run.output[-4000:]
    return run


_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees the whole session's items: mark only this folder's.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.workflow)
