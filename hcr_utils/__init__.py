"""hcr_utils: the shared code of the hcr handwritten character recognition curriculum.

Modules, one per concern: ``config`` (paths, seeds, quick mode), ``runtime``
(TensorFlow start-up), ``idx`` and ``download`` (files), ``datasets`` (MNIST,
EMNIST), ``models``, ``training``, ``evaluation``, ``explain``, ``plots``,
``preprocessing``, ``inference``, ``rejection`` ("I can't read this"),
``samples`` (your corrected drawings), ``strokes`` (pad drawings from images),
``export`` (LiteRT, SavedModel, ONNX) and ``widget`` (the drawing pad).

Importing the package or any of its modules starts nothing: a module that
needs TensorFlow imports it itself. Call ``runtime.start_tensorflow()`` first
(each notebook's setup cell does) and TensorFlow's start-up log lines never
reach your notebook.
"""

__version__ = "0.1.0"
