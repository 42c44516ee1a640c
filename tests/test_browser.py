"""End to end in a real browser: JupyterLab 4 and Notebook 7 run notebook 09, headless Chromium draws a 7,
then reloads the page, which must show the paper and the drawing again.

Everything runs on 127.0.0.1 and every process the test starts is stopped by its process id
(tests/browser_support.py).
"""

from __future__ import annotations

import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import (
    BROWSER_MARKS,
    SEVEN,
    browser_page,
    canvas_pixels,
    draw_with_mouse,
    free_port,
    jupyter_env,
    server,
    wait_for_pixels,
)

from hcr_utils import config

pytest_plugins = ["widget_fixtures"]

NOTEBOOK = config.PROJECT_ROOT / "notebooks" / "09_drawing_pad.ipynb"
pytestmark = BROWSER_MARKS


FRONTENDS = {  # front end: (jupyter subcommand, app class that exposes window.jupyterapp, notebook URL path, app name)
    "jupyterlab": ("lab", "LabApp", "lab/tree", "JupyterLab"),
    "notebook7": ("notebook", "JupyterNotebookApp", "notebooks", "Jupyter Notebook"),
}


@dataclass
class Jupyter:
    """A running Jupyter server and the address of notebook 09 in its front end."""

    frontend: str
    url: str
    token: str
    notebook_url: str


@pytest.fixture(scope="session", params=list(FRONTENDS))
def jupyter(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, models_dir: Path
) -> Iterator[Jupyter]:
    """A fresh server of one front end on a free 127.0.0.1 port, with its own home, config and a copy of notebook 09."""
    subcommand, app, path, _ = FRONTENDS[request.param]
    base = tmp_path_factory.mktemp(request.param)
    root = base / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    token, port = secrets.token_hex(16), free_port()
    env = {**jupyter_env(base, models_dir), config.QUICK_ENV: "1"}
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        subcommand,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--allow-root",
        f"--{app}.expose_app_in_browser=True",
    ]
    with server(command, env, f"{url}/api/status?token={token}", base / "server.log"):
        yield Jupyter(request.param, url, token, f"{url}/{path}/{NOTEBOOK.name}?token={token}")


def _errors_in_notebook(page) -> list[str]:
    return page.evaluate("""() => {
        const model = window.jupyterapp.shell.currentWidget.content.model, errors = [];
        for (let i = 0; i < model.cells.length; i++) {
            for (const out of (model.cells.get(i).toJSON().outputs || [])) {
                if (out.output_type === 'error') errors.push(`${out.ename}: ${out.evalue}`);
            }
        }
        return errors;
    }""")


def _run_notebook(page, jupyter: Jupyter):
    """Open notebook 09, run all its cells, and return the last drawing pad on the page."""
    page.goto(jupyter.notebook_url)
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=60_000,
    )
    assert page.evaluate("() => window.jupyterapp.name") == FRONTENDS[jupyter.frontend][3]
    assert page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')") is not False
    assert _errors_in_notebook(page) == []
    return page.locator(".hcr-pad").last


def test_draw_a_seven_and_reload(jupyter: Jupyter) -> None:
    from playwright.sync_api import expect

    with browser_page() as (page, _):
        pad = _run_notebook(page, jupyter)
        expect(pad.locator(".hcr-status")).to_contain_text("Draw a character", timeout=30_000)
        canvas = pad.locator(".hcr-canvas")
        box = canvas.bounding_box()
        assert box is not None
        assert round(box["width"]) == 280
        draw_with_mouse(page, canvas, SEVEN)
        expect(pad.locator(".hcr-rank1 .hcr-char")).to_have_text("7", timeout=20_000)
        expect(pad.locator(".hcr-char")).to_have_count(3)
        shown = canvas_pixels(canvas)
        assert shown["white"] > 0.5, f"paper and ink on the canvas: {shown}"
        assert shown["dark"] > 0.03, f"paper and ink on the canvas: {shown}"
        pad.screenshot(path=str(config.outputs_dir() / f"widget_e2e_{jupyter.frontend}.png"))

        # a reload starts a new page on the same kernel: the pad must draw its paper and strokes again
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")  # waits until saved
        page.reload()
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=60_000,
        )
        canvas = page.locator(".hcr-pad .hcr-canvas").last
        expect(canvas).to_be_visible(timeout=30_000)
        wait_for_pixels(canvas, "white > 0.5 && dark > 0.03")  # paper and the seven again, after the reload
