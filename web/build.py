"""Build the drawing pad's static page into one folder that any static web host can serve.

    python web/build.py [--out web/build] [--quantization int8|float32] [--models-dir DIR]

It exports the pad's two models (yours in my_models/ if you trained them, else the ones shipped with the
course) for one picture a call, with their labels and the refusal rule's settings; installs LiteRT.js from
web/package-lock.json with ``npm ci``; and copies LiteRT.js's ES modules and WebAssembly runtime beside the
page. It serves nothing: ``make web`` serves the folder on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

WEB = Path(__file__).resolve().parent
SOURCES = WEB / "src"
NODE_MODULES = WEB / "node_modules"
DEFAULT_OUT = WEB / "build"
MANIFEST = "pad.json"  # the page's settings; also what marks a folder as one this script built
RUNTIME = {  # where the page loads each LiteRT.js file from: its place in node_modules
    "litert/core.js": "@litertjs/core/dist/index.js",
    "litert/wasm-utils.js": "@litertjs/wasm-utils/dist/index.js",
    # WebAssembly with relaxed SIMD (Chrome, Edge, Firefox) and without it (Safari): the browser loads one
    **{
        f"litert/wasm/litert_wasm{kind}_internal.{ext}": f"@litertjs/core/wasm/litert_wasm{kind}_internal.{ext}"
        for kind in ("", "_compat")
        for ext in ("js", "wasm")
    },
}
MODES = {"characters": "emnist", "digits": "mnist"}  # the pad's modes and the dataset each one's model reads


class BuildError(RuntimeError):
    """The page cannot be built; the message says what to do."""


def install_runtime() -> None:
    """``npm ci`` in web/ unless node_modules already holds what package-lock.json names."""
    installed = NODE_MODULES / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= (WEB / "package-lock.json").stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm not found: install Node.js and npm (`make web-build` installs Debian's nodejs and npm)")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BuildError(f"npm ci failed in {WEB}:\n{result.stderr.strip()[-2000:]}")


def export_models(folder: Path, quantization: str, models_dir: Path | None) -> dict[str, dict]:
    """Export each mode's model into ``folder``; what the page needs to know about each."""
    from hcr_utils import config, runtime

    runtime.start_tensorflow()
    from hcr_utils.datasets import load
    from hcr_utils.export import calibration_images, export_for_web, reading_path
    from hcr_utils.inference import Recognizer, describe_source, find_model, labels_path
    from hcr_utils.widget import MODELS

    modes = {}
    for mode, dataset in MODES.items():
        path = find_model(MODELS[mode], models_dir)
        recognizer = Recognizer.load(path)
        calibration = calibration_images(load(dataset, config.SAMPLE_DIR / dataset)) if quantization == "int8" else None
        out = export_for_web(recognizer, folder, quantization, calibration)
        modes[mode] = {
            "model": f"models/{out.name}",
            "labels": f"models/{labels_path(out).name}",
            "reading": f"models/{reading_path(out).name}",
            "quantization": quantization,
            "bytes": out.stat().st_size,
            "source": _source(describe_source(path), path, config.PROJECT_ROOT),
        }
    return modes


def _source(description: str, path: Path, project: Path) -> str:
    """Whose model it is, in words, without this computer's folders: a published page shows it to everyone."""
    path = path.resolve()
    shown = path.relative_to(project) if path.is_relative_to(project) else path.name
    return description.replace(str(path), str(shown))


def _replace(staged: Path, out: Path) -> None:
    """Put the staged folder at ``out``, replacing an earlier build but never a folder this script did not make."""
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists()):
            raise BuildError(f"{out} exists and is not a page built here: choose another --out")
        old = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.old")
        out.rename(old)
        staged.rename(out)
        shutil.rmtree(old)
    else:
        staged.rename(out)


def build(out: Path = DEFAULT_OUT, quantization: str = "int8", models_dir: Path | None = None) -> Path:
    """Build the page into ``out`` (replaced as a whole, only once everything is ready); returns ``out``."""
    from hcr_utils.pen import LIVE_INTERVAL_S
    from hcr_utils.strokes import BRUSH_WIDTH, SIZE
    from hcr_utils.widget import TOP_K

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    install_runtime()
    staged = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        shutil.copytree(SOURCES, staged)
        for target, source in RUNTIME.items():
            (staged / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(NODE_MODULES / source, staged / target)
        modes = export_models(staged / "models", quantization, models_dir)
        settings = {
            "size": SIZE,
            "brush_width": BRUSH_WIDTH,
            "live_interval_ms": round(1000 * LIVE_INTERVAL_S),
            "top_k": TOP_K,
            "modes": modes,
        }
        (staged / MANIFEST).write_text(json.dumps(settings, indent=1))
        _replace(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the folder to build (default: web/build)")
    parser.add_argument(
        "--quantization",
        choices=["int8", "float32"],
        default="int8",
        help="int8: a quarter of the download; float32: the Keras model's own numbers",
    )
    parser.add_argument("--models-dir", type=Path, help="where your trained models are (default: my_models/)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        out = build(args.out, args.quantization, args.models_dir)
    except (BuildError, OSError, ValueError) as err:  # ModelNotFoundError is an OSError
        print(f"error: {err}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"built {out} ({size / 1e6:.1f} MB, {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
