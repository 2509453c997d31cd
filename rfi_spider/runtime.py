"""Where the project runs from (a checkout or a Scrapyd egg) and the default folder that follows.

From a checkout, crawls write to ``output/`` in the working directory, as the
README's quick start shows. Under Scrapyd the project runs from a zipped egg
and the working directory is Scrapyd's own, so the default is a per-user data
folder instead: ``$XDG_DATA_HOME/rfi-spider/output`` (``~/.local/share/...``).
"""

from __future__ import annotations

import os
from pathlib import Path

import rfi_spider

# The state's folder in an output folder (RFI_STATE_DIR's default).
STATE_DIR = ".state"


def from_egg() -> bool:
    """True when the package is imported from a zipped egg (as Scrapyd runs it)."""
    return not Path(rfi_spider.__file__ or "").is_file()


def data_home() -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share``."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def default_output_dir(name: str = "output") -> str:
    """``output`` in a checkout; ``<data home>/rfi-spider/output`` from an egg.

    ``name``: the folder's name, one per edition (``output``, ``output-tw``).
    """
    return str(data_home() / "rfi-spider" / name) if from_egg() else name
