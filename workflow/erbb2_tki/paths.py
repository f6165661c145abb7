"""Where the project's data lives: annotations/ (knowledge base and transcript model)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The package lives in <project>/workflow/erbb2_tki, so the project root is two levels up.
PROJECT_DIR = PACKAGE_DIR.parent.parent


def annotations_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The annotations/ folder: an explicit path, else $ERBB2_TKI_ANNOTATIONS, else the project's own."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ERBB2_TKI_ANNOTATIONS")
    if env:
        return Path(env)
    return PROJECT_DIR / "annotations"


def schemas_dir() -> Path:
    """The JSON Schemas (YAML) for config, sample sheet and knowledge base."""
    return PACKAGE_DIR.parent / "schemas"
