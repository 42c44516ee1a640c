"""Install the course's JupyterLab settings into the running Python environment.

    python scripts/install_lab_settings.py

JupyterLab reads ``overrides.json`` from ``<environment>/share/jupyter/lab/settings``
at start-up. The course's file (``jupyter/overrides.json``) answers the first-run
question about official Jupyter news ("Never") and turns the update check off, so the
contents page opens with nothing over it and JupyterLab asks no website for news.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "jupyter" / "overrides.json"


def install(prefix: Path = Path(sys.prefix)) -> Path:
    """Copy the overrides into ``prefix``'s JupyterLab settings folder; return where they went."""
    target = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, target)
    return target


if __name__ == "__main__":
    print(f"JupyterLab settings installed: {install()}")
