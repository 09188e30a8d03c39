"""Output helpers for management commands that write reports to stdout."""
import os
from typing import IO


def discard_after_broken_pipe(output: IO[str]) -> None:
    """The reader went away (`... | head`): send the rest to /dev/null so exiting raises nothing."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), output.fileno())
    except (OSError, ValueError):
        pass
