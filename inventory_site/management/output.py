"""Output helpers for management commands that write reports to stdout."""

import os
from typing import IO, TextIO

from django.core.management.base import OutputWrapper


def raw_stream(wrapper: OutputWrapper) -> TextIO:
    """The stream a command's `stdout`/`stderr` wraps, for writers that bypass its line endings (csv)."""
    return wrapper._out  # type: ignore[return-value]  # the stubs type every unknown attribute as a callable


def discard_after_broken_pipe(output: IO[str]) -> None:
    """The reader went away (`... | head`): send the rest to /dev/null so exiting raises nothing."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), output.fileno())
    except (OSError, ValueError):
        pass
