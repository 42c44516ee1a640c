"""Read a handwritten line of characters: a CRNN trained with CTC on lines built from EMNIST characters.

One module per job:

* :mod:`.lines`: lines written with single characters (:class:`LineMaker`), the word lists;
* :mod:`.crnn`: the network (:func:`build_crnn`), started from the character CNN;
* :mod:`.training`: its recipe, batches of lines written on the fly, the CTC training;
* :mod:`.decoding`: greedy and beam decoding, the prior correction, a :class:`Lexicon`;
* :mod:`.metrics`: edit distance, character error rate, confusions;
* :mod:`.reader`: :class:`WordReader`, which reads any picture of one line;
* :mod:`.segments`: the baseline that cuts a line into characters and reads each one.

A picture of a line becomes the network's input with
:func:`hcr_utils.preprocessing.line_input`, beside the conversion of one character.
"""

from ..preprocessing import LINE_HEIGHT, line_input
from .crnn import CHARACTER_LAYERS, build_crnn, start_from_characters
from .decoding import BLANK_SCALE, PRIOR_TAU, Lexicon, beam_decode, correct_prior, greedy_decode
from .lines import (
    BLANK,
    STRIDE,
    LineMaker,
    Lines,
    LineStyle,
    batch_of,
    ctc_targets,
    labels_text,
    text_labels,
    word_list,
)
from .metrics import character_error_rate, confusions, edit_distance
from .reader import MODEL_NAME, READER_KIND, LineReading, WordReader, find_reader, is_word_model, save_reader
from .segments import read_by_segments, segment
from .training import (
    WORD_RECIPE,
    LineBatches,
    WordRecipe,
    compile_crnn,
    measure_line_speed,
    train_crnn,
    training_prior,
)

__all__ = [
    "BLANK",
    "BLANK_SCALE",
    "CHARACTER_LAYERS",
    "LINE_HEIGHT",
    "MODEL_NAME",
    "PRIOR_TAU",
    "READER_KIND",
    "STRIDE",
    "WORD_RECIPE",
    "Lexicon",
    "LineBatches",
    "LineMaker",
    "LineReading",
    "LineStyle",
    "Lines",
    "WordReader",
    "WordRecipe",
    "batch_of",
    "beam_decode",
    "build_crnn",
    "character_error_rate",
    "compile_crnn",
    "confusions",
    "correct_prior",
    "ctc_targets",
    "edit_distance",
    "find_reader",
    "greedy_decode",
    "is_word_model",
    "labels_text",
    "measure_line_speed",
    "line_input",
    "read_by_segments",
    "save_reader",
    "segment",
    "start_from_characters",
    "text_labels",
    "train_crnn",
    "training_prior",
    "word_list",
]
