"""The benchmarks' yardstick: how many floats a vector this CPU's arithmetic runs under TensorFlow."""

from __future__ import annotations

from arithmetic import full_width_avx512

AVX512 = {"avx2", "fma", "avx512f"}
INTEL = "vendor_id\t: GenuineIntel\ncpu family\t: 6\n"
ZEN4 = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
ZEN5 = "vendor_id\t: AuthenticAMD\ncpu family\t: 26\n"


def test_full_width_avx512_needs_512_bit_units_and_onednn() -> None:
    assert full_width_avx512(INTEL, AVX512, {})
    assert full_width_avx512(ZEN5, AVX512, {})
    assert not full_width_avx512(ZEN4, AVX512, {}), "Zen 4 runs 512-bit work on 256-bit units"
    assert not full_width_avx512(INTEL, {"avx2", "fma"}, {}), "no AVX-512"
    assert not full_width_avx512(ZEN5, AVX512, {"TF_ENABLE_ONEDNN_OPTS": "0"}), "TensorFlow's own kernels are AVX2"
    assert not full_width_avx512(INTEL, AVX512, {"ONEDNN_MAX_CPU_ISA": "AVX2"})
