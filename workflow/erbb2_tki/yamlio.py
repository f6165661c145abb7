"""YAML reading with libyaml's C parser when PyYAML has it.

Every job loads the knowledge base, the transcript model and schemas; the pure-Python parser
spent about half a second of each job on that, the C one a tenth of it. Same safe subset.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(source: str | bytes | IO[str] | IO[bytes]) -> Any:
    """Parse one YAML document with the safe loader (C implementation when available)."""
    return yaml.load(source, Loader=_LOADER)
