"""YAML reading with libyaml's C parser when PyYAML has it.

Every job loads the knowledge base, the transcript model and schemas; the pure-Python parser
spent about half a second of each job on that, the C one a tenth of it. Same safe subset.
"""

from __future__ import annotations

import os
from typing import IO, Any


def load_yaml(source: str | bytes | IO[str] | IO[bytes]) -> Any:
    """Parse one YAML document with the safe loader (C implementation when available).

    yaml is imported here, not at module level: `erbb2-tki --help` and a warm knowledge-base
    load (from the cache, see knowledge/loading.py) never parse YAML.
    """
    import yaml

    return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml_file(path: str | os.PathLike[str], fix: str = "") -> Any:
    """Parse a YAML file; a syntax error or non-UTF-8 text is one InputError naming the file,
    the line and the fix (never a parser traceback)."""
    import yaml

    from .errors import InputError

    try:
        with open(path, encoding="utf-8") as handle:
            return load_yaml(handle)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(
            f"not valid YAML: {problem}",
            path=str(path),
            record=f"line {mark.line + 1}" if mark else None,
            fix=fix
            or "fix the YAML syntax at that line (indentation, a ':' after each key, "
            "quotes around text with ':' or '#')",
        ) from None
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text ({err.reason} at byte {err.start})",
            path=str(path),
            fix="save the file as UTF-8",
        ) from None
