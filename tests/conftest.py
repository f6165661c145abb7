"""Shared test fixtures: where ../shared lives, and a skip when it does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path | None:
    env = os.environ.get("ERBB2_TKI_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_DIR.parent / "shared")
    for path in candidates:
        if (path / "reference").is_dir():
            return path
    return None


SHARED_DIR = _shared_dir()


@pytest.fixture(scope="session", autouse=True)
def _private_kb_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The parsed-knowledge-base cache (knowledge.cache_dir) in a folder of this test session,
    never the user's ~/.cache: tests (and the workflow runs they start) see no entry they did
    not write themselves."""
    os.environ["ERBB2_TKI_CACHE_DIR"] = str(tmp_path_factory.mktemp("kb-cache"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (or $ERBB2_TKI_SHARED): the reference facts and caller dialects."""
    if SHARED_DIR is None:
        pytest.skip(
            "../shared is not beside this checkout (set ERBB2_TKI_SHARED to its path): "
            "the known-answer facts and real caller VCFs live there"
        )
    return SHARED_DIR


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    return shared_dir / "reference"


@pytest.fixture(scope="session")
def dialects_dir(shared_dir: Path) -> Path:
    path = shared_dir / "dialects"
    if not path.is_dir():
        pytest.skip(f"{path} is missing: the real caller VCFs are not available here")
    return path
