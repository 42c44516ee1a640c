"""Shared fixtures: the shipped real sample and a local HTTP server for download tests."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hcr_utils.config import SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The real sample shipped in data/sample (mnist/ and emnist/ in the official layout)."""
    assert (SAMPLE_DIR / "mnist").is_dir() and (SAMPLE_DIR / "emnist").is_dir(), "data/sample is missing"
    return SAMPLE_DIR


@pytest.fixture()
def mnist_copy(tmp_path: Path, sample_dir: Path) -> Path:
    """A writable copy of the MNIST sample, for tests that damage files."""
    return Path(shutil.copytree(sample_dir / "mnist", tmp_path / "mnist"))


class FileServer:
    """Serves files from a folder on 127.0.0.1; routes can be told to misbehave."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.truncate: dict[str, int] = {}  # path -> bytes to send before hanging up
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                name = self.path.lstrip("/")
                if name in server.truncate:
                    data = (server.root / name).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: server.truncate[name]])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"


@pytest.fixture()
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    """A local HTTP server over ``tmp_path / "served"``, stopped after the test."""
    root = tmp_path / "served"
    root.mkdir()
    server = FileServer(root)
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
