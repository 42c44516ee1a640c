"""Reading lines: synthesis from real sample characters, CTC decoding, CER, the reader, the word pad and the CLI."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from drawings import line_strokes
from PIL import Image

from hcr_utils import cli
from hcr_utils.datasets import Dataset
from hcr_utils.inference import SHIPPED_MODELS_DIR, Recognizer
from hcr_utils.models import build_cnn
from hcr_utils.preprocessing import BlankImageError
from hcr_utils.saved import ModelFileError
from hcr_utils.strokes import render_strokes
from hcr_utils.word_pad import BRUSH_WIDTH, HEIGHT, WIDTH, WRITE_PROMPT, WordPad
from hcr_utils.words import (
    LINE_HEIGHT,
    MODEL_NAME,
    STRIDE,
    WORD_RECIPE,
    Lexicon,
    LineMaker,
    LineStyle,
    WordReader,
    beam_decode,
    build_crnn,
    character_error_rate,
    correct_prior,
    edit_distance,
    greedy_decode,
    labels_text,
    line_input,
    measure_line_speed,
    read_by_segments,
    segment,
    start_from_characters,
    text_labels,
    training_prior,
    word_list,
)

pytest_plugins = ["widget_fixtures"]

AGREEMENT = 0.95  # the centre frame against the character model: 97.7% on the sample (the next frames: 86-89%)
APART = LineStyle(gap=(4, 8), slant=0.0)  # characters that never touch: one ink component each (mostly)


@pytest.fixture(scope="module")
def reader() -> WordReader:
    """The word model shipped in saved_models/."""
    return WordReader.load(SHIPPED_MODELS_DIR / MODEL_NAME)


@pytest.fixture(scope="module")
def test_lines(emnist_sample: Dataset):
    """Forty lines of 1 to 10 random characters, written with the sample's test images."""
    return LineMaker(emnist_sample, "test").random_lines(40, seed=3)


def frames(text: str, classes: tuple[str, ...], blank_between: bool = True) -> np.ndarray:
    """A hand-made frames × (blank + classes) matrix: each character for two frames (then a blank), sure of itself."""
    rows = []
    for char in text:
        rows += [classes.index(char) + 1] * 2 + ([0] if blank_between else [])
    matrix = np.full((len(rows), len(classes) + 1), 1e-6, np.float32)
    matrix[np.arange(len(rows)), rows] = 1 - 1e-6 * len(classes)
    return matrix


# --- lines made from characters --------------------------------------------------------------------------------------
def test_the_labels_are_the_classes_of_the_characters_placed(emnist_sample: Dataset, test_lines) -> None:
    for labels, sources, image in zip(test_lines.labels, test_lines.sources, test_lines.images):
        assert 1 <= len(labels) <= 10
        assert len(sources) == len(labels)
        assert np.array_equal(emnist_sample.y_test[sources], labels)
        assert image.shape[0] == LINE_HEIGHT
        assert image.shape[1] % STRIDE == 0
        assert image.dtype == np.uint8


def test_each_character_apart_is_one_piece_of_ink(emnist_sample: Dataset) -> None:
    lines = LineMaker(emnist_sample, "test", APART).random_lines(30, seed=4)
    found = [len(segment(image)) == len(labels) for image, labels in zip(lines.images, lines.labels)]
    assert np.mean(found) >= 0.8  # a few characters are drawn in two strokes (an i's dot, a broken E)


@pytest.mark.slow
def test_measure_line_speed_times_training_steps_of_the_crnn(emnist_sample: Dataset) -> None:
    small = dataclasses.replace(WORD_RECIPE, batch_size=8)
    speed = measure_line_speed(emnist_sample, small, seconds=0.5)
    assert 5 < speed < 50_000, f"{speed:.0f} lines/s: not a CRNN training on a CPU"


def test_train_and_test_images_never_mix(emnist_sample: Dataset) -> None:
    """Training images dimmed to at most 100: a line written with them never holds a brighter pixel, a test line does."""
    dimmed = (emnist_sample.x_train.astype(np.float32) * 100 / 255).astype(np.uint8)
    data = dataclasses.replace(emnist_sample, x_train=dimmed)
    train, test = LineMaker(data, "train"), LineMaker(data, "test")
    assert all(line.max() <= 100 for line in train.random_lines(30, seed=5).images)
    assert all(line.max() > 150 for line in test.random_lines(30, seed=5).images)
    assert train.word_lines(["hello"]).sources[0].max() < len(data.y_train)
    with pytest.raises(ValueError, match="'train' or 'test'"):
        LineMaker(data, "validation")


def test_words_map_onto_the_merged_classes(emnist_sample: Dataset) -> None:
    classes = emnist_sample.classes
    assert labels_text(text_labels("hello", classes), classes) == "heLLO"  # l and o have no class of their own
    assert labels_text(text_labels("Quiz", classes), classes) == "QUIZ"
    with pytest.raises(ValueError, match="not among"):
        text_labels("don't", classes)


def test_the_same_seed_writes_the_same_lines(emnist_sample: Dataset) -> None:
    first, again = (LineMaker(emnist_sample, "test").random_lines(5, seed=9) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first.images, again.images))


def test_the_shipped_word_lists_are_disjoint_and_large_enough() -> None:
    train, held_out = word_list("train"), word_list("held_out")
    assert len(train) + len(held_out) >= 10_000
    assert len(held_out) >= 5_000
    assert not set(train) & set(held_out)


# --- decoding ------------------------------------------------------------------------------------------------------
def test_greedy_decoding_merges_repeats_and_drops_blanks(emnist_sample: Dataset) -> None:
    classes = emnist_sample.classes
    matrix = frames("ab", classes)
    read = greedy_decode(matrix)
    assert labels_text((c for c, _ in read), classes) == "ab"
    assert all(p == pytest.approx(1, abs=1e-4) for _, p in read)
    doubled = frames("aa", classes)  # a blank between two a's keeps both
    assert labels_text((c for c, _ in greedy_decode(doubled)), classes) == "aa"
    assert labels_text((c for c, _ in greedy_decode(frames("aa", classes, blank_between=False))), classes) == "a"


def test_beam_search_sums_the_alignments_that_greedy_ignores() -> None:
    """Two frames, each 60% blank: the best single path is empty (0.36), but 'a' has three paths worth 0.64."""
    matrix = np.array([[0.6, 0.4], [0.6, 0.4]], np.float32)
    assert greedy_decode(matrix) == []
    assert beam_decode(matrix) == [0]


def test_the_lexicon_decoder_only_answers_words_of_its_list(emnist_sample: Dataset) -> None:
    classes = emnist_sample.classes
    lexicon = Lexicon(["hello", "help", "hell", "yellow"])
    assert lexicon.decode(frames("heLLO", classes), classes) == "hello"
    assert lexicon.decode(frames("HELP", classes), classes) == "help"  # case does not matter
    noisy = frames("heLL0", classes)  # a zero where the o should be: not a letter, yet the word fits best
    noisy[-3:-1] = 0.5 * noisy[-3:-1] + 0.5 * frames("O", classes)[:2]
    assert lexicon.decode(noisy, classes) == "hello"
    assert Lexicon(["xyz"]).decode(frames("ab", classes), classes) is None
    with pytest.raises(ValueError, match="letters a-z"):
        Lexicon(["don't"])


def test_the_prior_correction_undoes_the_letters_that_words_made_common(emnist_sample: Dataset) -> None:
    classes = emnist_sample.classes
    prior = training_prior(classes)
    assert prior.sum() == pytest.approx(1)
    assert prior[classes.index("0")] < 1 / len(classes) < prior[classes.index("e")]  # no word holds a digit
    matrix = 0.55 * frames("O", classes) + 0.45 * frames("0", classes)  # an O, or nearly as likely a zero
    assert labels_text((c for c, _ in greedy_decode(matrix)), classes) == "O"
    corrected = correct_prior(matrix, prior)
    assert corrected.sum(axis=1) == pytest.approx(1)
    assert labels_text((c for c, _ in greedy_decode(corrected)), classes) == "0"
    uniform = np.full(len(classes), 1 / len(classes))  # a uniform prior and an unscaled blank change nothing
    assert np.allclose(correct_prior(matrix, uniform, blank_scale=1.0), matrix)


def test_character_error_rate_counts_edits_per_character() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert character_error_rate(["abc", "de"], ["abd", "de"]) == pytest.approx(1 / 5)
    assert character_error_rate(["ab"], [""]) == 1.0
    with pytest.raises(ValueError):
        character_error_rate(["a"], [])


# --- the reader --------------------------------------------------------------------------------------------------------
def test_the_shipped_reader_reads_test_lines(reader: WordReader, test_lines, emnist_sample: Dataset) -> None:
    truths = test_lines.texts(emnist_sample.classes)
    assert character_error_rate(truths, reader.texts(test_lines.images)) < 0.25
    assert character_error_rate(truths, [reader.read(image) for image in test_lines.images]) < 0.25


def test_the_corrected_reading_makes_fewer_errors_on_random_lines(reader: WordReader, emnist_sample: Dataset) -> None:
    lines = LineMaker(emnist_sample, "test").random_lines(200, seed=3)
    truths = lines.texts(emnist_sample.classes)
    plain, corrected = (character_error_rate(truths, reader.texts(lines.images, corrected=c)) for c in (False, True))
    assert corrected < plain < 0.25


def test_read_with_scores_gives_each_character_a_probability(reader: WordReader, test_lines) -> None:
    reading = reader.read_with_scores(test_lines.images[0])
    assert reading.text == "".join(char for char, _ in reading.characters) == reader.read(test_lines.images[0])
    assert all(0 < p <= 1 for _, p in reading.characters)
    assert reading.seen.shape[0] == LINE_HEIGHT
    assert reading.probabilities.shape[1] == len(reader.classes) + 1


def test_any_picture_of_a_line_reads_the_same(reader: WordReader, test_lines) -> None:
    """Dark ink on light paper, RGB, RGBA on a transparent background, a huge scan: the same text."""
    line = test_lines.images[1]
    big = np.asarray(Image.fromarray(line).resize((line.shape[1] * 6, 6 * LINE_HEIGHT), Image.Resampling.BICUBIC))
    paper = np.repeat((255 - big)[..., None], 3, axis=2)
    rgba = np.dstack([np.zeros_like(paper), big])  # black ink whose alpha is the ink
    huge = np.asarray(Image.fromarray(255 - big).resize((6000, 6000 * big.shape[0] // big.shape[1])))
    expected = reader.read(big)
    assert [reader.read(image) for image in (paper, rgba, huge)] == [expected] * 3
    assert character_error_rate([reader.read(line)], [expected]) <= 0.2


@pytest.mark.parametrize(
    "image, error, message",
    [
        (np.full((200, 840), 255, np.uint8), BlankImageError, "blank"),
        (np.pad(np.full((6, 6), 255, np.uint8), ((97, 97), (417, 417))), BlankImageError, "too small"),
        (np.zeros((1, 5), np.uint8), ValueError, "too small to read"),
        (np.zeros((20, 20, 2), np.uint8), ValueError, "expected an H×W"),
    ],
    ids=["blank", "speck", "tiny", "not-an-image"],
)
def test_bad_pictures_get_clear_errors(reader: WordReader, image: np.ndarray, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        reader.read(image)


def test_a_character_model_is_not_a_word_model(models_dir: Path) -> None:
    with pytest.raises(ModelFileError, match="is a characters model, not a words model"):
        WordReader.load(models_dir / "emnist_cnn.keras")
    with pytest.raises(FileNotFoundError, match="train words"):
        WordReader.load(models_dir / "nothing.keras")


def test_a_reader_started_from_characters_names_a_character_at_its_centre(
    emnist_recognizer: Recognizer, emnist_sample: Dataset
) -> None:
    crnn = build_crnn(emnist_sample.num_classes)
    start_from_characters(crnn, emnist_recognizer.model)
    images = emnist_sample.x_test[:300, ..., None]  # a line one character wide: 7 frames, the 4th centred on it
    centre = crnn.predict(images, verbose=0)[:, 3, 1:]  # its logits for the classes (0 is the blank)
    characters = emnist_recognizer.model.predict(images, verbose=0)
    assert np.mean(centre.argmax(axis=1) == characters.argmax(axis=1)) >= AGREEMENT


def test_a_character_model_with_other_blocks_is_refused_with_what_to_do() -> None:
    earlier = build_cnn(47, head="flatten")  # pooled after the ReLU, as an earlier recipe's blocks
    with pytest.raises(ModelFileError, match="earlier recipe.*notebook 06"):
        start_from_characters(build_crnn(47), earlier)


def test_line_input_scales_the_ink_to_the_line_height(test_lines) -> None:
    line = test_lines.images[2]
    big = np.asarray(Image.fromarray(255 - line).resize((line.shape[1] * 5, LINE_HEIGHT * 5)))
    seen = line_input(np.pad(big, 40, constant_values=255))
    rows = np.flatnonzero(seen.max(axis=1) > 50)
    assert seen.shape[0] == LINE_HEIGHT
    assert 20 <= rows[-1] - rows[0] + 1 <= 26


def test_a_wide_line_keeps_its_resolution(emnist_sample: Dataset) -> None:
    """A 4,300-pixel-wide scan of a 40-character line reads like the line itself, not like a blurred copy."""
    maker = LineMaker(emnist_sample, "test")
    line = maker.lines([maker.random_text(np.random.default_rng(0), 40)], seed=3).images[0]
    scan = np.asarray(
        Image.fromarray(255 - line).resize((line.shape[1] * 6, LINE_HEIGHT * 6), Image.Resampling.BICUBIC)
    )
    assert scan.shape[1] > 4000
    reference, seen = line_input(line).astype(float), line_input(scan).astype(float)
    width = min(reference.shape[1], seen.shape[1])
    assert abs(reference.shape[1] - seen.shape[1]) < 0.1 * width
    # shrunk to 512 pixels first, as pictures of one character are, the same line correlates 0.69 with it
    assert np.corrcoef(reference[:, :width].ravel(), seen[:, :width].ravel())[0, 1] > 0.95


def test_a_short_letter_on_the_wide_word_pad_is_big_enough() -> None:
    """The ink must span 15% of a line picture's height (30 of the pad's 200 pixels), not of its 840-pixel width."""
    letter = render_strokes([[(400, 70), (400, 130)]], (WIDTH, HEIGHT), BRUSH_WIDTH)  # an "l" 76 pixels tall
    assert line_input(letter).shape[0] == LINE_HEIGHT
    with pytest.raises(BlankImageError, match="too small"):
        line_input(render_strokes([[(400, 95), (400, 100)]], (WIDTH, HEIGHT), BRUSH_WIDTH))  # a dot 21 pixels tall


def test_segment_then_read_reads_characters_apart(emnist_recognizer: Recognizer, emnist_sample: Dataset) -> None:
    lines = LineMaker(emnist_sample, "test", APART).random_lines(20, seed=6)
    truths = lines.texts(emnist_sample.classes)
    assert character_error_rate(truths, [read_by_segments(emnist_recognizer, x) for x in lines.images]) < 0.35


# --- the word pad ---------------------------------------------------------------------------------------------------------
@pytest.fixture()
def pad(models_dir: Path) -> WordPad:
    return WordPad(SHIPPED_MODELS_DIR, lexicon=Lexicon(word_list("held_out")))


def send(pad: WordPad, event: str, x: float, y: float) -> None:
    pad.canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])


def test_the_empty_pad_asks_for_a_word(pad: WordPad) -> None:
    assert WRITE_PROMPT in pad.status.value
    assert pad.reading is None
    assert "hcr-char" not in pad.characters.value
    assert "shipped with the course" in pad.source.value


def test_writing_a_word_reads_it_with_each_characters_probability(
    pad: WordPad, reader: WordReader, emnist_sample: Dataset
) -> None:
    word = next(word for word in word_list("held_out") if len(word) == 6)  # short enough to fit the canvas
    line = LineMaker(emnist_sample, "test", APART).word_lines([word], seed=1).images[0]
    *earlier, [(x, y)] = line_strokes(line)
    pad.strokes.extend(earlier)  # as if written already: reading after each of hundreds of dots would be slow
    send(pad, "mouse_down", x, y)
    send(pad, "mouse_up", x, y)
    assert pad.reading is not None
    assert pad.status.value == ""
    assert pad.characters.value.count('class="hcr-char"') == len(pad.reading.characters) >= 1
    assert f"{100 * pad.reading.characters[0][1]:.0f}%" in pad.characters.value
    assert pad.word == word  # the lexicon (the held-out words) finds it, though the greedy reading may miss a letter
    assert edit_distance(word, pad.reading.text.lower()) <= len(word) // 2


def test_strokes_undo_clear_and_a_dot(pad: WordPad) -> None:
    send(pad, "mouse_down", 100, 40)
    for y in range(50, 170, 10):
        send(pad, "mouse_move", 100, y)
    send(pad, "mouse_up", 100, 170)
    assert len(pad.strokes) == 1
    assert len(pad.strokes[0]) == 13
    assert pad.reading is not None
    send(pad, "mouse_move", 300, 100)  # hovering draws nothing
    assert len(pad.strokes) == 1
    pad.undo()
    assert pad.strokes == []
    assert pad.reading is None
    assert WRITE_PROMPT in pad.status.value
    pad.canvas._handle_frontend_event(None, {"event": "touch_start", "touches": [{"x": 400, "y": 100}]}, [])
    pad.canvas._handle_frontend_event(None, {"event": "touch_end", "touches": []}, [])
    assert pad.reading is None
    assert "too small" in pad.status.value
    pad.clear_button.click()
    assert pad.strokes == []
    assert WRITE_PROMPT in pad.status.value


def test_a_page_that_connects_late_gets_the_canvas_again(pad: WordPad, monkeypatch: pytest.MonkeyPatch) -> None:
    pad.draw([[(100, 40), (100, 160)]])
    painted = []
    monkeypatch.setattr(pad, "_paint", lambda: painted.append(len(pad.strokes)))
    pad.canvas._canvas_manager._current_canvas = pad.canvas
    pad.pen.on_client_ready()
    assert painted == [1]
    assert pad.canvas._canvas_manager._current_canvas is None


def test_the_pad_says_when_no_word_model_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hcr_utils.config.SHIPPED_MODELS_DIR", tmp_path)
    pad = WordPad(tmp_path)
    assert "not found" in pad.status.value
    assert "train words" in pad.status.value


# --- the command line ----------------------------------------------------------------------------------------------------
def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_predict_reads_lines_with_a_word_model(test_lines, reader: WordReader, tmp_path: Path, capsys) -> None:
    line = np.kron(255 - test_lines.images[0], np.ones((3, 3), np.uint8))  # a "scan": dark ink, 3× larger
    (tmp_path / "line.png").write_bytes(png(line))
    (tmp_path / "blank.png").write_bytes(png(np.full((60, 300), 255, np.uint8)))
    (tmp_path / "text.png").write_text("not an image")
    model = str(SHIPPED_MODELS_DIR / MODEL_NAME)
    capsys.readouterr()
    assert cli.main(["predict", model, str(tmp_path / "line.png")]) == 0
    path, text, scores = capsys.readouterr().out.rstrip("\n").split("\t")
    assert text == reader.read(line)
    assert len(scores.split("  ")) == len(text)
    assert cli.main(["predict", model, str(tmp_path / "blank.png"), str(tmp_path / "text.png")]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2
    assert "blank" in errors[0]
    assert "not a readable image" in errors[1]
    assert "Traceback" not in "".join(errors)
    with pytest.raises(SystemExit) as usage:  # options that do not go together: argparse's usage error
        cli.main(["predict", model, str(tmp_path / "line.png"), "--only", "digits"])
    assert usage.value.code == 2
    assert "character models" in capsys.readouterr().err
