"""The two kinds of CPU the course is timed on, as environment variables for TensorFlow.

``fast`` is the machine as it is (with AVX-512, TensorFlow turns oneDNN on);
``typical`` is a laptop without AVX-512: oneDNN off and limited to AVX2. They
must be set before TensorFlow starts, so this module imports nothing.
"""

TYPICAL_CPU = {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"}
