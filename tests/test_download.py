"""Downloads against an HTTP server on 127.0.0.1: success, bad checksum, cut transfer, 404, no server."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from hcr_utils.download import DownloadError, download, sha256_of


@pytest.fixture()
def served_file(file_server, sample_dir: Path) -> tuple[str, bytes, str]:
    """A real IDX file published by the test server: (url, content, sha256)."""
    content = (sample_dir / "mnist/t10k-images-idx3-ubyte.gz").read_bytes()
    (file_server.root / "t10k-images-idx3-ubyte.gz").write_bytes(content)
    return (
        file_server.url("t10k-images-idx3-ubyte.gz"),
        content,
        sha256_of(file_server.root / "t10k-images-idx3-ubyte.gz"),
    )


def test_download_writes_verified_file_and_shows_progress(tmp_path: Path, served_file) -> None:
    url, content, sha = served_file
    progress = io.StringIO()
    path = download(url, tmp_path / "data" / "t10k.gz", sha, progress=progress)
    assert path.read_bytes() == content
    assert "100%" in progress.getvalue()
    assert f"{len(content) / 1e6:.1f} MB" in progress.getvalue()
    assert [p.name for p in path.parent.iterdir()] == ["t10k.gz"]


def test_existing_verified_file_is_not_fetched_again(tmp_path: Path, served_file, file_server) -> None:
    url, _, sha = served_file
    download(url, tmp_path / "out" / "f.gz", sha, progress=None)
    download(url, tmp_path / "out" / "f.gz", sha, progress=None)
    assert len(file_server.requests) == 1


def test_checksum_mismatch_leaves_nothing_behind(tmp_path: Path, served_file, file_server) -> None:
    url, _, _ = served_file
    with pytest.raises(DownloadError, match="checksum mismatch.*place it at"):
        download(url, tmp_path / "out" / "f.gz", "0" * 64, retries=2, backoff=0, progress=None)
    assert list((tmp_path / "out").iterdir()) == []
    assert len(file_server.requests) == 2  # retried once, then gave up


def test_truncated_transfer_is_retried_then_reported(tmp_path: Path, served_file, file_server) -> None:
    url, content, sha = served_file
    file_server.truncate["t10k-images-idx3-ubyte.gz"] = len(content) // 2
    with pytest.raises(DownloadError, match=f"after {len(content) // 2} of {len(content)} bytes"):
        download(url, tmp_path / "out" / "f.gz", sha, retries=3, backoff=0, timeout=5, progress=None)
    assert list((tmp_path / "out").iterdir()) == []  # no half file that looks complete
    assert len(file_server.requests) == 3


def test_retry_recovers_after_a_cut(tmp_path: Path, served_file, file_server, monkeypatch) -> None:
    url, content, sha = served_file
    file_server.truncate["t10k-images-idx3-ubyte.gz"] = 1000
    real_sleep_calls: list[float] = []

    def heal(seconds: float) -> None:  # the server recovers while the downloader waits
        real_sleep_calls.append(seconds)
        file_server.truncate.clear()

    monkeypatch.setattr("hcr_utils.download.time.sleep", heal)
    path = download(url, tmp_path / "out" / "f.gz", sha, retries=3, backoff=1.5, progress=None)
    assert path.read_bytes() == content
    assert real_sleep_calls == [1.5]


def test_404_is_not_retried(tmp_path: Path, file_server) -> None:
    with pytest.raises(DownloadError, match=r"HTTP 404.*place it at .*f\.gz"):
        download(file_server.url("missing.gz"), tmp_path / "out" / "f.gz", "0" * 64, backoff=0, progress=None)
    assert file_server.requests == ["/missing.gz"]
    assert list((tmp_path / "out").iterdir()) == []


def test_no_server_explains_offline_fallback(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match=r"refused.*If this machine is offline.*f\.gz \(SHA-256 1{64}\)"):
        download(
            f"http://127.0.0.1:{port}/f.gz", tmp_path / "out" / "f.gz", "1" * 64, retries=2, backoff=0, progress=None
        )
    assert list((tmp_path / "out").iterdir()) == []
