"""Build step: copy the workflow's own files into the wheel, beside the package.

The repository layout stays the source (Snakefile, workflow/rules, workflow/schemas,
workflow/report, workflow/profiles, workflow/envs, annotations/, config/); a wheel carries a copy of
them as erbb2_tki/_workflow/, mirroring that layout, so that `erbb2-tki run`, the knowledge base and
the schemas work from any install. An editable install (pip install -e .) uses the checkout itself
and copies nothing. Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# What the wheel carries besides the package (tests/workflow/test_wheel.py checks a built wheel).
BUNDLED = (
    "Snakefile",
    "LICENSE",
    "workflow/rules/*.smk",
    "workflow/schemas/**/*",
    "workflow/report/**/*",
    "workflow/profiles/**/*",
    "workflow/envs/**/*",
    "annotations/**/*",
    "config/config.yaml",
    "config/samples.tsv",
    "config/example/*.vcf*",
)


def bundled_files(root: Path) -> list[Path]:
    files: set[Path] = set()
    for pattern in BUNDLED:
        for path in root.glob(pattern):
            parts = path.relative_to(root).parts
            if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts):
                files.add(path)
    return sorted(files)


class BuildPyWithWorkflow(build_py):
    """build_py that also copies the workflow files into <build_lib>/erbb2_tki/_workflow."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the editable package finds the checkout itself
        target = Path(self.build_lib) / "erbb2_tki" / "_workflow"
        for source in bundled_files(HERE):
            destination = target / source.relative_to(HERE)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


if __name__ == "__main__":  # as setuptools runs it; importing it (the tests) only reads the list
    setup(cmdclass={"build_py": BuildPyWithWorkflow})
