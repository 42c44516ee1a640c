"""Download a file with progress, SHA-256 verification, retries and atomic writes.

A download goes to ``<name>.part`` next to its destination and is renamed only
once its checksum matches, so a file with the final name is always complete.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

from .errors import HcrError

CHUNK = 1 << 16


class DownloadError(HcrError, RuntimeError):
    """A file could not be fetched; the message says where to place it by hand."""


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Progress:
    """A one-line text progress bar on stderr, redrawn at most 4 times a second."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.last = 0.0

    def update(self, done: int, final: bool = False) -> None:
        if self.stream is None or (not final and time.monotonic() - self.last < 0.25):
            return
        self.last = time.monotonic()
        if self.total:
            share = done / self.total
            bar = "#" * int(30 * share)
            text = f"{self.label}: [{bar:<30}] {done / 1e6:7.1f}/{self.total / 1e6:.1f} MB {share:4.0%}"
        else:
            text = f"{self.label}: {done / 1e6:7.1f} MB"
        self.stream.write("\r" + text + ("\n" if final else ""))
        self.stream.flush()


def _fetch_once(url: str, part: Path, timeout: float, progress: TextIO | None) -> str:
    """Stream ``url`` into ``part``; return its SHA-256. Raises on short transfers."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _Progress(part.name.removesuffix(".part"), total, progress)
        done = 0
        with open(part, "wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                bar.update(done)
        bar.update(done, final=True)
    if total is not None and done != total:
        raise ConnectionError(f"transfer ended after {done} of {total} bytes")
    return digest.hexdigest()


def download(
    url: str,
    dest: Path | str,
    sha256: str,
    *,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 2.0,
    progress: TextIO | None = sys.stderr,
) -> Path:
    """Fetch ``url`` to ``dest`` unless a file with the right SHA-256 is already there.

    Transient failures (refused or dropped connections, truncated transfers,
    checksum mismatches) are retried ``retries`` times in all, waiting
    ``backoff`` seconds more each time; an HTTP error such as 404 is not.

    Raises:
        DownloadError: after the last attempt, naming the URL, the reason and
            the path where the file can be placed by hand.
    """
    dest = Path(dest)
    if dest.exists() and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    reason = "no attempt made"
    for attempt in range(1, retries + 1):
        try:
            got = _fetch_once(url, part, timeout, progress)
            if got == sha256:
                os.replace(part, dest)
                return dest
            reason = f"checksum mismatch (expected SHA-256 {sha256}, got {got})"
        except urllib.error.HTTPError as err:
            part.unlink(missing_ok=True)
            reason = f"HTTP {err.code} {err.reason}"
            break
        except (urllib.error.URLError, OSError) as err:
            reason = str(getattr(err, "reason", err))
        part.unlink(missing_ok=True)
        if attempt < retries:
            time.sleep(backoff * attempt)
    raise DownloadError(
        f"Could not download {url}: {reason}. If this machine is offline, download that file "
        f"elsewhere and place it at {dest} (SHA-256 {sha256})."
    )
