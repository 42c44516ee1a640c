"""The static web page against the Python Recognizer, and what it costs a visitor, in headless Chromium.

    python benchmarks/bench_web.py --data-dir ../shared/data/emnist-dev [--n 500] [--loads 5]

Builds the page twice (int8 and float32 models) under outputs/bench_web/, then:

* agreement: EMNIST test characters redrawn as pad strokes (``hcr_utils.strokes``) are drawn on the int8
  page through its pointer events; the page's top-1, refusal and 28×28 input are compared with
  ``Recognizer.read`` of the same strokes, for the very ``.tflite`` file the page reads and for the ``.keras``
  model the notebook's pad reads;
* speed: time from the start of the page's loading to its first guess (fresh browser context each time),
  and the milliseconds of each read after a stroke;
* size: the bytes (uncompressed) the page downloads to its first guess, and after switching to digits.

Prints one JSON line. Needs /usr/bin/chromium and npm.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import SEVEN, browser_page, free_port, server

from hcr_utils import config

DISPATCH = """const pad = document.querySelector('#pad'), box = pad.getBoundingClientRect();
    const send = (type, [x, y]) => pad.dispatchEvent(new PointerEvent(type, {bubbles: true, cancelable: true,
        isPrimary: true, pointerId: 1, pointerType: 'mouse', button: 0, buttons: type === 'pointerup' ? 0 : 1,
        clientX: box.left + pad.clientLeft + x * pad.clientWidth / pad.width,
        clientY: box.top + pad.clientTop + y * pad.clientHeight / pad.height}));
    for (const stroke of strokes) {
        send('pointerdown', stroke[0]);
        stroke.slice(1).forEach(point => send('pointermove', point));
        send('pointerup', stroke[stroke.length - 1]);
    }"""
DRAW_NOW = f"(strokes) => {{ {DISPATCH} }}"  # strokes through the pad's pointer events, as a mouse sends them
DRAW = f"""async (strokes) => {{
    document.querySelector('#clear').click();
    await window.hcrPad.settled();
    {DISPATCH}
    await window.hcrPad.settled();
    return window.hcrPad.stats.lastReading;
}}"""
DOWNLOADED = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
    .reduce((total, entry) => total + entry.decodedBodySize, 0)"""


def build(out: Path, quantization: str) -> Path:
    """Build the page with web/build.py (the shipped models, unless my_models/ holds yours)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, str(ROOT / "web" / "build.py"), "--out", str(out), "--quantization", quantization],
        env=env,
        check=True,
        capture_output=True,
    )
    return out


def serve(folder: Path):
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    return server(command, dict(os.environ), f"http://127.0.0.1:{port}/", folder.parent / f"{folder.name}.log"), port


def first_guess(url: str, loads: int) -> dict:
    """Fresh page loads: milliseconds from navigation start to the first guess, and the bytes downloaded."""
    times, sizes, digits_sizes = [], [], []
    for _ in range(loads):
        with browser_page() as (page, errors):
            page.goto(url, wait_until="commit")
            page.wait_for_function("window.hcrPad !== undefined")
            page.evaluate(DRAW_NOW, [SEVEN])  # drawn while the page loads: read as soon as the model is ready
            page.wait_for_function("window.hcrPad.stats.firstGuessMs !== null", timeout=30_000)
            times.append(page.evaluate("window.hcrPad.stats.firstGuessMs"))
            sizes.append(page.evaluate(DOWNLOADED))
            page.get_by_label("Digits only (MNIST)").check()
            page.wait_for_function("document.querySelector('#source').textContent.includes('mnist')")
            page.evaluate("window.hcrPad.settled()")
            digits_sizes.append(page.evaluate(DOWNLOADED))
            assert not errors, errors
    return {
        "first_guess_ms_median": round(float(np.median(times)), 1),
        "first_guess_ms_max": round(max(times), 1),
        "download_mb": round(float(np.median(sizes)) / 1e6, 2),
        "download_with_digits_mb": round(float(np.median(digits_sizes)) / 1e6, 2),
    }


def agreement(url: str, site: Path, data_dir: Path, n: int) -> dict:
    from hcr_utils.datasets import load_emnist
    from hcr_utils.inference import Recognizer, find_model
    from hcr_utils.strokes import centre_line_strokes, render_strokes

    data = load_emnist("balanced", data_dir)
    pick = np.random.default_rng(config.SEED).choice(len(data.x_test), n, replace=False)
    python = {
        "tflite": Recognizer.load(site / "models" / "emnist_cnn.tflite"),
        "keras": Recognizer.load(find_model("emnist_cnn.keras")),
    }
    same_top1 = {name: 0 for name in python}
    same_refusal, identical_inputs, max_diffs, mean_diffs, correct = 0, 0, [], [], 0
    with browser_page() as (page, errors):
        page.goto(url)
        page.wait_for_function("document.body.dataset.state === 'ready'", timeout=30_000)
        page.evaluate("window.hcrPad.stats.readMs.length = 0")
        for index in pick:
            strokes = centre_line_strokes(data.x_test[index])
            shown = page.evaluate(DRAW, [[list(point) for point in stroke] for stroke in strokes])
            picture = render_strokes(strokes)
            for name, recognizer in python.items():
                seen = recognizer.prepare(picture)
                same_top1[name] += recognizer.best(seen, 1)[0][0] == shown["best"][0][0]
            reading = python["tflite"].read(picture)
            same_refusal += (reading.refusal is None) == (shown["refusal"] is None)
            diff = np.abs(np.array(shown["seen"]) - reading.seen.reshape(-1).astype(int))
            identical_inputs += int(diff.max() == 0)
            max_diffs.append(int(diff.max()))
            mean_diffs.append(float(diff.mean()))
            correct += shown["best"][0][0] == data.classes[data.y_test[index]]
        reads = page.evaluate("window.hcrPad.stats.readMs")
        assert not errors, errors
    p50, p95 = np.percentile(reads, [50, 95])
    return {
        "n": n,
        **{f"same_top1_as_{name}": round(count / n, 4) for name, count in same_top1.items()},
        "same_refusal": round(same_refusal / n, 4),
        "identical_inputs": round(identical_inputs / n, 4),
        "input_max_diff_p99": float(np.percentile(max_diffs, 99)),
        "input_max_diff_max": max(max_diffs),
        "input_mean_diff_mean": round(float(np.mean(mean_diffs)), 4),
        "page_accuracy": round(correct / n, 4),
        "read_ms_p50": round(float(p50), 2),
        "read_ms_p95": round(float(p95), 2),
        "reads": len(reads),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="EMNIST Balanced (official IDX files)")
    parser.add_argument("--n", type=int, default=500, help="test characters drawn on the page")
    parser.add_argument("--loads", type=int, default=5, help="fresh page loads timed")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "outputs" / "bench_web")
    args = parser.parse_args()
    results = {}
    for quantization in ("int8", "float32"):
        site = build(args.out_dir / quantization, quantization)
        context, port = serve(site)
        with context:
            url = f"http://127.0.0.1:{port}/"
            results[quantization] = first_guess(url, args.loads)
            if quantization == "int8":
                results[quantization].update(agreement(url, site, args.data_dir, args.n))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
