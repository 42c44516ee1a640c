"""`make lab`, the README's first command, starts JupyterLab as root and as an ordinary user, on the contents page
with no first-run dialog or news question over it.

The test runs the Makefile's own command line (``make lab`` with ``LAB_FLAGS`` for a free port, a token and no
browser) and stops the server by its process id (tests/browser_support.py). The ordinary user is ``nobody``
(uid 65534), reached through ``setpriv`` when the tests run as root; it keeps one capability, reading through
folders it could not otherwise search, because the environment's interpreter may live in root's home (a
pyenv Python under /root): it is still not root, so JupyterLab's own root check and the Makefile's see an
ordinary user. As an ordinary user the tests try that user, and skip the root case.
"""

from __future__ import annotations

import os
import secrets
import shutil
import urllib.request
from pathlib import Path

import pytest
from browser_support import BROWSER_MARKS, browser_page, free_port, server

from hcr_utils.config import PROJECT_ROOT

IS_ROOT = os.geteuid() == 0
NEWS_QUESTION = "official Jupyter news"
NOBODY = 65534
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _lab(tmp_path: Path, as_user: int | None):
    """`make lab` on a free port, run by ``as_user`` (None: this user), with its own home and runtime folders."""
    home = tmp_path / "home"
    home.mkdir()
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    flags = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token} --LabApp.expose_app_in_browser=True"
    command = ["make", "-C", str(PROJECT_ROOT), "--no-print-directory", "lab", f"LAB_FLAGS={flags}"]
    if as_user:
        os.chown(home, as_user, as_user)
        command = [
            "setpriv",
            f"--reuid={as_user}",
            f"--regid={as_user}",
            "--clear-groups",
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
            *command,
        ]
    url = f"http://127.0.0.1:{port}"
    return server(command, env, f"{url}/api/status?token={token}", tmp_path / "lab.log"), url, token


def _answers(url: str, token: str) -> bytes:
    """The server's status page, read with the token: an answer only a started JupyterLab gives."""
    with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=10) as reply:
        assert reply.status == 200
        return reply.read()


@pytest.mark.skipif(not IS_ROOT, reason="the tests run as an ordinary user: the root case cannot be tried")
def test_make_lab_starts_as_root(tmp_path: Path) -> None:
    started, url, token = _lab(tmp_path, as_user=None)
    with started:
        assert _answers(url, token)
    assert "--allow-root" in (tmp_path / "lab.log").read_text()


def test_make_lab_starts_as_an_ordinary_user(tmp_path: Path) -> None:
    if IS_ROOT:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to start JupyterLab as the user nobody")
        tmp_path.chmod(0o755)
    started, url, token = _lab(tmp_path, as_user=NOBODY if IS_ROOT else None)
    with started:
        assert _answers(url, token)
    assert "--allow-root" not in (tmp_path / "lab.log").read_text()


class TestInTheBrowser:
    pytestmark = BROWSER_MARKS

    def test_lab_opens_on_the_contents_page_with_nothing_over_it(self, tmp_path: Path) -> None:
        """The news question is answered by the course's settings, and no dialog covers the contents page."""
        started, url, token = _lab(tmp_path, as_user=None)
        with started, browser_page() as (page, errors):
            page.goto(f"{url}/lab/tree/index.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-RenderedMarkdown h1").first.wait_for(timeout=90_000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager")
            news = page.evaluate("""async () => {
                const settings = await window.jupyterapp.serviceManager.settings.fetch(
                    '@jupyterlab/apputils-extension:notification');  // overrides are the schema's defaults
                return settings.schema.properties.fetchNews.default;
            }""")
            assert news == "false", "the course's settings override (jupyter/overrides.json) did not reach JupyterLab"
            assert page.locator(".jp-Dialog").count() == 0, "a dialog covers the contents page"
            assert NEWS_QUESTION not in page.content()
            assert not errors, errors
