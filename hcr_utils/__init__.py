"""hcr_utils: the shared code of the hcr handwritten character recognition curriculum.

Modules, one per concern: ``config`` (paths, seeds, quick mode), ``idx`` and
``download`` (files), ``datasets`` (MNIST, EMNIST), ``models``, ``training``,
``evaluation``, ``plots``, ``preprocessing``, ``inference`` and ``widget``.
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) buries what learners need to read.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
