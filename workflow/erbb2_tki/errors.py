"""The project's own error for bad input: it names the file, the record and the fix.

Every problem a user can cause (a missing file, a malformed VCF, a build that contradicts
the sample sheet, a knowledge-base row with a wrong residue) is raised as InputError, so the
CLI and the workflow can report it in one line and fail only the sample it belongs to.
Any other exception is a bug in erbb2-tki.
"""

from __future__ import annotations


class InputError(Exception):
    """A problem with something the user gave us, with enough context to fix it."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        record: str | None = None,
        sample: str | None = None,
        fix: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.record = record
        self.sample = sample
        self.fix = fix
        self.field = field

    def __str__(self) -> str:
        parts = []
        if self.sample:
            parts.append(f"sample {self.sample}")
        if self.path:
            parts.append(f"file {self.path}")
        if self.record:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(f"field {self.field}")
        where = (", ".join(parts) + ": ") if parts else ""
        text = f"{where}{self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def with_context(self, *, sample: str | None = None, path: str | None = None) -> InputError:
        """Fill in the sample or file where a lower layer did not know them."""
        if sample and not self.sample:
            self.sample = sample
        if path and not self.path:
            self.path = str(path)
        return self
