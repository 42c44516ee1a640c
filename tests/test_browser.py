"""End to end in a real browser: JupyterLab 4 and Notebook 7 run notebook 07, headless Chromium draws a 7.

Needs Debian's ``chromium`` at /usr/bin/chromium (``apt-get install -y chromium``); Playwright
drives it through ``executable_path``, so ``playwright install`` is never needed. Everything
runs on 127.0.0.1 and every process the test starts is stopped by its process id.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from hcr_utils import config

pytest_plugins = ["widget_fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
NOTEBOOK = config.PROJECT_ROOT / "notebooks" / "07_draw_and_predict.ipynb"
SEVEN = [(60, 60), (220, 60), (120, 250)]  # canvas pixels: across the top, then down to the left

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(apt-get install -y chromium)"),
]


FRONTENDS = {  # front end: (jupyter subcommand, app class that exposes window.jupyterapp, notebook URL path, app name)
    "jupyterlab": ("lab", "LabApp", "lab/tree", "JupyterLab"),
    "notebook7": ("notebook", "JupyterNotebookApp", "notebooks", "Jupyter Notebook"),
}


@dataclass
class Jupyter:
    """A running Jupyter server and the address of notebook 07 in its front end."""

    frontend: str
    url: str
    token: str
    notebook_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read() or b"{}")


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state, parent id, ...); [] once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (the kernels started by the server)."""
    pids = [int(path.name) for path in Path("/proc").iterdir() if path.name.isdigit()]
    return [child for child in pids if _stat(child)[1:2] == [str(pid)]]


def _running(pid: int) -> bool:
    return _stat(pid)[:1] not in ([], ["Z"])


def _stop(pids: list[int]) -> None:
    """SIGTERM these process ids, then SIGKILL those still running after 10 s."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session", params=list(FRONTENDS))
def jupyter(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Jupyter]:
    """A fresh server of one front end on a free 127.0.0.1 port, with its own home, config and a copy of notebook 07."""
    command, app, path, _ = FRONTENDS[request.param]
    base = tmp_path_factory.mktemp(request.param)
    root = base / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "HOME": str(base), "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "IPYTHONDIR": str(base / "ipython"),
           config.MODELS_DIR_ENV: str(models_dir), config.QUICK_ENV: "1"}
    log = (base / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", command, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
         f"--{app}.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{url}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter {command} did not start:\n{(base / 'server.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield Jupyter(request.param, url, token, f"{url}/{path}/{NOTEBOOK.name}?token={token}")
    finally:
        _stop(_children(server.pid))  # the kernels first: the server then exits at once
        _stop([server.pid])
        server.wait()
        log.close()


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


def test_draw_a_seven(jupyter: Jupyter) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname == "127.0.0.1"
                       else route.abort())
            page.goto(jupyter.notebook_url)
            page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
                                   "?.status === 'idle'", timeout=60_000)
            assert page.evaluate("() => window.jupyterapp.name") == FRONTENDS[jupyter.frontend][3]
            assert page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')") is not False
            assert _errors_in_notebook(page) == []

            pad = page.locator(".hcr-pad").last
            expect(pad.locator(".hcr-status")).to_contain_text("Draw a character", timeout=30_000)
            canvas = pad.locator(".hcr-canvas")
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            assert box is not None and round(box["width"]) == 280
            page.mouse.move(box["x"] + SEVEN[0][0], box["y"] + SEVEN[0][1])
            page.mouse.down()
            for x, y in SEVEN[1:]:
                page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
            page.mouse.up()

            expect(pad.locator(".hcr-rank1 .hcr-char")).to_have_text("7", timeout=20_000)
            expect(pad.locator(".hcr-char")).to_have_count(3)
            pad.screenshot(path=str(config.outputs_dir() / f"widget_e2e_{jupyter.frontend}.png"))
        finally:
            browser.close()
