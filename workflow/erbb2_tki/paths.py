"""Where the workflow's files live: the checkout, or the copy an installed wheel carries.

The repository layout is the source: Snakefile, workflow/ (rules, schemas, report captions,
profiles, envs), annotations/ (knowledge base and transcript model) and config/ (defaults and the
bundled example batch). An editable install uses the checkout itself; a wheel carries a copy of
those files in the package, as erbb2_tki/_workflow/ with the same layout (setup.py writes it), found
through importlib.resources. `ERBB2_TKI_ANNOTATIONS` or an explicit folder overrides annotations/.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from .errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parent
# In a checkout the package lives in <project>/workflow/erbb2_tki: the project is two levels up.
PROJECT_DIR = PACKAGE_DIR.parent.parent
BUNDLE = "_workflow"
ANNOTATIONS_ENV = "ERBB2_TKI_ANNOTATIONS"


@cache
def workflow_root() -> Path:
    """The folder holding Snakefile, workflow/, annotations/ and config/.

    The wheel's bundled copy when there is one, else the checkout the package was installed from.
    """
    # A wheel is installed unpacked, so the bundle is a real folder Snakemake can read: next to
    # this module (what importlib.resources answers for a package on disk, without importing it).
    bundled = Path(__file__).parent / BUNDLE
    if bundled.is_dir():
        return bundled
    if (PROJECT_DIR / "Snakefile").is_file():
        return PROJECT_DIR
    from importlib import resources  # a package not loaded from a folder

    other = resources.files(__package__).joinpath(BUNDLE)
    if other.is_dir():
        return Path(str(other))
    raise InputError(
        f"the workflow files (Snakefile, annotations/, schemas) are not installed with the package "
        f"in {PACKAGE_DIR}.",
        fix="install erbb2-tki from a wheel or a checkout (pip install erbb2-tki, or pip install -e "
        "CHECKOUT), not by copying the package folder.",
    )


def snakefile() -> Path:
    """The workflow's Snakefile (bundled or in the checkout)."""
    return workflow_root() / "Snakefile"


def annotations_dir(
    explicit: str | os.PathLike[str] | None = None,
    *,
    source: str = "--annotations",
    default: Path | None = None,
) -> Path:
    """The annotations/ folder: an explicit path, else $ERBB2_TKI_ANNOTATIONS, else the bundled one.

    An override must be an existing folder; anything else is an InputError naming where the path
    came from (`source`; a broken folder is reported by the loader that reads it, naming the file).
    `default` replaces the bundled folder (a workflow included as a module uses its own).
    """
    if explicit:
        return _checked_override(Path(explicit), source)
    env = os.environ.get(ANNOTATIONS_ENV)
    if env:
        return _checked_override(Path(env), ANNOTATIONS_ENV)
    return default if default is not None else workflow_root() / "annotations"


def _checked_override(path: Path, source: str) -> Path:
    if path.is_dir():
        return path
    what = "is not a folder" if path.exists() else "does not exist"
    raise InputError(
        f"{source} points at {str(path)!r} (resolved: {path.resolve()}), which {what}.",
        fix=f"point {source} at a folder holding knowledge/ and transcripts/ (a copy of "
        "annotations/), or unset it to use the bundled one.",
    )


def schemas_dir() -> Path:
    """The JSON Schemas (YAML) for config, sample sheet and knowledge base."""
    return workflow_root() / "workflow" / "schemas"


def profile_dir(name: str = "default") -> Path:
    """A Snakemake profile shipped with the workflow (default or slurm)."""
    return workflow_root() / "workflow" / "profiles" / name


def example_sheet() -> Path:
    """The bundled example batch's sample sheet (its VCFs are in config/example/)."""
    return workflow_root() / "config" / "samples.tsv"
