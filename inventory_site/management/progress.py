"""The progress bar every long-running management command shows, only on a terminal."""

from tqdm import tqdm

from inventory_site.management.output import raw_stream


def progress_bar(command, *, total: int | None = None, desc: str = "", unit: str = "rows") -> tqdm:
    """A tqdm bar on the command's stderr, off unless both stdout and stderr are TTYs.

    Cron jobs, pipes and tests therefore get clean output with only the summary line.
    """
    interactive = command.stdout.isatty() and command.stderr.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        disable=not interactive,
        file=raw_stream(command.stderr),
        leave=False,
        dynamic_ncols=True,
    )
