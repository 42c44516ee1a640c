"""hcr_utils: the shared code of the hcr handwritten character recognition curriculum.

Modules, one job each:

* files and settings: ``config`` (paths, seeds, quick mode), ``runtime``
  (TensorFlow start-up), ``idx`` and ``download`` (files), ``datasets`` (MNIST, EMNIST);
* characters: ``models`` (the CNNs), ``training`` (recipes), ``evaluation``,
  ``explain``, ``plots``, ``preprocessing`` (any picture → 28×28, any line → 28×W),
  ``inference`` (``Recognizer``), ``rejection`` ("I can't read this");
* saved models of both kinds: ``saved`` (save, find, load; ``NAME.keras`` with ``NAME.labels.json``);
* lines: the ``words`` subpackage (line synthesis, the CRNN, its training,
  decoding, metrics, ``WordReader``, segment-then-read);
* drawing: ``strokes`` (strokes rasterised, drawings made from images),
  ``pen`` (the pads' pen), ``widget`` (the drawing pad), ``word_pad``, ``samples``
  (your corrected drawings); ``export`` (LiteRT, SavedModel, ONNX); ``cli`` (the ``hcr`` command);
* ``errors``: ``HcrError``, the base of every error a user can act on.

Importing the package or any of its modules starts nothing: a module that
needs TensorFlow imports it itself. Call ``runtime.start_tensorflow()`` first
(each notebook's setup cell does) and TensorFlow's start-up log lines never
reach your notebook.

The shipped models load with plain Keras too: ``import hcr_utils.models`` registers
the course's layers, then ``keras.saving.load_model("saved_models/emnist_cnn.keras")``.
"""

__version__ = "0.1.0"
