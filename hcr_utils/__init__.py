"""hcr_utils: the shared code of the hcr handwritten character recognition curriculum.

Modules, one per concern: ``config`` (paths, seeds, quick mode), ``idx`` and
``download`` (files), ``datasets`` (MNIST, EMNIST), ``models``, ``training``,
``evaluation``, ``plots``, ``preprocessing``, ``inference`` and ``widget``.
"""

import os

# TensorFlow's C++ info and warning lines bury what learners need to read; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
