"""Latency of a single-input call, shared by the benchmarks that time the pads' reads."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def percentiles_ms(call: Callable[[Any], Any], inputs: Sequence[Any], repeats: int, warmup: int) -> tuple[float, float]:
    """p50 and p95 milliseconds of ``call`` on ``inputs`` in turn, after ``warmup`` untimed calls."""
    for value in inputs[:warmup]:
        call(value)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        call(inputs[i % len(inputs)])
        times.append(1000 * (time.perf_counter() - start))
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95)
