"""hcr_utils: the shared code of the hcr handwritten character recognition curriculum.

Modules, one per concern: ``config`` (paths, seeds, quick mode), ``runtime``
(TensorFlow start-up), ``idx`` and ``download`` (files), ``datasets`` (MNIST,
EMNIST), ``models``, ``training``, ``evaluation``, ``explain``, ``plots``,
``preprocessing``, ``inference``, ``rejection`` ("I can't read this"),
``samples`` (your corrected drawings), ``strokes`` (pad drawings from images),
``export`` (LiteRT, SavedModel, ONNX) and ``widget`` (the drawing pad).

Importing the package starts TensorFlow quietly: import it before ``keras``
or ``tensorflow`` and their start-up log lines never reach your notebook.
"""

from .runtime import start_tensorflow

start_tensorflow()

__version__ = "0.1.0"
