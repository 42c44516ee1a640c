"""What the browser tests share: a server started on 127.0.0.1 and stopped by its process ids, a headless
Chromium page that can reach nothing but 127.0.0.1 and fails the test on any error in the page, drawing with
the mouse or a finger, and reading the canvas (waiting until it shows what is expected, never a fixed time).

Needs Debian's ``chromium`` at /usr/bin/chromium (``apt-get install -y chromium``); Playwright drives it
through ``executable_path``, so ``playwright install`` is never needed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]
SEVEN = [(60, 60), (220, 60), (120, 250)]  # canvas pixels: across the top, then down to the left


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def jupyter_env(base: Path, models_dir: Path) -> dict[str, str]:
    """The environment of a Jupyter or Voilà server whose settings all live in ``base``, reading ``models_dir``."""
    from hcr_utils import config

    return {
        **os.environ,
        "HOME": str(base),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        config.MODELS_DIR_ENV: str(models_dir),
    }


@contextlib.contextmanager
def voila(notebook: Path, base: Path, models_dir: Path) -> Iterator[str]:
    """Voilà serving ``notebook`` on a free 127.0.0.1 port, as `make app` starts it; yields its address."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=False",
    ]
    url = f"http://127.0.0.1:{port}/"
    with server(command, jupyter_env(base, models_dir), url + "voila/static/does-not-exist", base / "voila.log"):
        yield url


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], ready_url: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """Start ``command``, wait until ``ready_url`` answers (any HTTP status), and stop it (its kernels first) afterwards."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(ready_url, timeout=5).close()
                    break
                except urllib.error.HTTPError:  # an error page is an answer: the server is up
                    break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{command[:4]} did not start:\n{log_path.read_text()[-3000:]}")
                    time.sleep(0.3)
            yield process
        finally:
            _stop(_children(process.pid))  # the kernels first: the server then exits at once
            _stop([process.pid])
            process.wait()


# Console errors that are not the course's: a request to anything but 127.0.0.1, which the page aborts; and
# Voilà 0.5 loading Notebook 7's lab extension, which asks for JupyterLab's document registry (module federation
# error RUNTIME-012 for @jupyterlab/docregistry). Every other console error, and every uncaught one, fails the test.
NOT_OURS = ("net::ERR_FAILED", '#RUNTIME-012\nargs: {"shareKey":"@jupyterlab/docregistry"}')
# Uncaught errors that are not the course's, by message and the file they come from: Notebook 7 loading its
# settings in its own code (notebook_core.js), at start-up.
NOT_OURS_UNCAUGHT = (("Cannot read properties of undefined (reading 'schema')", "/static/notebook/notebook_core."),)


def _console_error(message) -> str | None:
    """A console error worth failing for: any but those in NOT_OURS."""
    if message.type != "error" or any(known in message.text for known in NOT_OURS):
        return None
    return message.text


def _uncaught(error) -> str | None:
    """An uncaught error worth failing for, with where it was thrown: any but those in NOT_OURS_UNCAUGHT."""
    text, stack = str(error), error.stack or ""
    if any(known in text and where in stack for known, where in NOT_OURS_UNCAUGHT):
        return None
    return f"uncaught: {text}\n{stack}"


@contextlib.contextmanager
def browser_page(viewport: dict[str, int] | None = None, touch: bool = False) -> Iterator[tuple[object, list[str]]]:
    """A headless Chromium page that may load only 127.0.0.1, and the list of its errors.

    The errors are uncaught exceptions in the page and console errors (but those in NOT_OURS and
    NOT_OURS_UNCAUGHT); any at the end of the block fails the test.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, has_touch=touch)
            page = context.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if urlparse(route.request.url).hostname == "127.0.0.1" else route.abort()
                ),
            )
            errors: list[str] = []
            page.on("console", lambda message: (text := _console_error(message)) and errors.append(text))
            page.on("pageerror", lambda error: (text := _uncaught(error)) and errors.append(text))
            yield page, errors
            assert errors == [], f"errors in the page: {errors}"
        finally:
            browser.close()


def draw_with_mouse(page, canvas, points: Sequence[tuple[float, float]]) -> None:
    """Press at the first point (canvas pixels), drag through the others, release."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()


def draw_with_finger(canvas, points: Sequence[tuple[float, float]], steps: int = 6) -> None:
    """The same stroke as touch events (touchstart, touchmove..., touchend), as a finger on a phone sends them."""
    canvas.scroll_into_view_if_needed()
    canvas.evaluate(
        """(canvas, args) => {
        const [points, steps] = args, box = canvas.getBoundingClientRect();
        const touch = (x, y) => new Touch({identifier: 1, target: canvas, clientX: box.left + x, clientY: box.top + y});
        const send = (type, x, y) => canvas.dispatchEvent(new TouchEvent(type, {
            bubbles: true, cancelable: true, touches: type === 'touchend' ? [] : [touch(x, y)],
            targetTouches: type === 'touchend' ? [] : [touch(x, y)], changedTouches: [touch(x, y)]}));
        send('touchstart', ...points[0]);
        for (let i = 1; i < points.length; i++) {
            const [x0, y0] = points[i - 1], [x1, y1] = points[i];
            for (let s = 1; s <= steps; s++) send('touchmove', x0 + (x1 - x0) * s / steps, y0 + (y1 - y0) * s / steps);
        }
        send('touchend', ...points[points.length - 1]);
    }""",
        [list(map(list, points)), steps],
    )


PIXELS = """canvas => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let opaque = 0, white = 0, dark = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] > 200) opaque++;
            if (data[i + 3] > 200 && data[i] > 240 && data[i + 1] > 240 && data[i + 2] > 240) white++;
            if (data[i + 3] > 200 && data[i] < 60 && data[i + 1] < 60 && data[i + 2] < 60) dark++;
        }
        const n = data.length / 4;
        return {opaque: opaque / n, white: white / n, dark: dark / n};
    }"""


def canvas_pixels(canvas) -> dict[str, float]:
    """What the canvas shows: the share of opaque pixels, of white ones and of dark (ink) ones."""
    return canvas.evaluate(PIXELS)


def wait_for_pixels(canvas, condition: str, timeout_ms: int = 20_000) -> None:
    """Wait until the canvas shows ``condition``, a JavaScript test of ``opaque``, ``white`` and ``dark`` (shares).

    Fails the test, saying what the canvas showed, if it does not within ``timeout_ms``.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    test = f"canvas => {{ const {{opaque, white, dark}} = ({PIXELS})(canvas); return {condition}; }}"
    try:
        canvas.page.wait_for_function(test, arg=canvas.element_handle(), timeout=timeout_ms)
    except PlaywrightTimeout:
        pytest.fail(f"the canvas never showed {condition}: it shows {canvas_pixels(canvas)}")
