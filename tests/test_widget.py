"""The drawing pad, driven through the messages a browser sends: draw, undo, clear, switch model, upload."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from drawings import filled_blob
from PIL import Image

from hcr_utils import config, pen, widget
from hcr_utils.datasets import Dataset
from hcr_utils.inference import Recognizer
from hcr_utils.strokes import render_strokes
from hcr_utils.widget import DrawingPad

pytest_plugins = ["widget_fixtures"]

SEVEN = [(60, 60), (140, 60), (220, 60), (190, 120), (160, 180), (120, 250)]
ONE = [(140, 30), (140, 140), (140, 250)]


@pytest.fixture()
def pad(models_dir: Path) -> DrawingPad:
    """A fresh pad reading digits with the test models."""
    return DrawingPad(models_dir)


def send(pad: DrawingPad, event: str, x: float, y: float) -> None:
    """Deliver one canvas event as the browser would."""
    pad.canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])


def stroke(pad: DrawingPad, points: list[tuple[float, float]], end: str = "mouse_up") -> None:
    """Press at the first point, move through the others, release at the last."""
    send(pad, "mouse_down", *points[0])
    for point in points[1:]:
        send(pad, "mouse_move", *point)
    send(pad, end, *points[-1])


def upload(pad: DrawingPad, data: bytes, name: str = "photo.png") -> None:
    """Deliver a file as FileUpload does in ipywidgets 8."""
    pad.upload.value = (
        {
            "name": name,
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.now(UTC),
        },
    )


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def shown_seen_image(pad: DrawingPad) -> np.ndarray:
    """The 28×28 'what the model saw' picture as displayed (PNG shown at 4×)."""
    return np.asarray(Image.open(io.BytesIO(pad.seen_image.value)))[::4, ::4]


def test_empty_pad_asks_for_a_character(pad: DrawingPad) -> None:
    assert "Draw a character" in pad.status.value
    assert pad.predictions == []
    assert "hcr-char" not in pad.bars.value


def test_drawing_a_seven_shows_top_3_bars_and_the_model_input(pad: DrawingPad) -> None:
    stroke(pad, SEVEN)
    chars = [char for char, _ in pad.predictions]
    assert chars[0] == "7"
    assert len(chars) == 3
    assert len(set(chars)) == 3
    assert pad.bars.value.count('class="hcr-char"') == 3
    assert (
        '<span class="hcr-char" style="font:bold 28px monospace;width:28px;text-align:center">7</span>'
        in pad.bars.value
    )
    assert f"{100 * pad.predictions[0][1]:5.1f}%" in pad.bars.value
    assert pad.status.value == ""
    assert np.array_equal(shown_seen_image(pad), pad.seen)
    assert pad.seen.max() == 255


def test_the_pad_keeps_strokes_and_ignores_hovering(pad: DrawingPad) -> None:
    send(pad, "mouse_move", 10, 10)  # hovering, button up
    stroke(pad, ONE)
    send(pad, "mouse_move", 200, 200)
    assert pad.strokes == [ONE]
    assert pad.predictions[0][0] == "1"


def test_live_predictions_while_drawing_are_throttled(pad: DrawingPad, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    monkeypatch.setattr(pad, "read", lambda: reads.append(len(pad.strokes[-1])))
    monkeypatch.setattr(pen, "LIVE_INTERVAL_S", 0.0)
    send(pad, "mouse_down", *ONE[0])
    send(pad, "mouse_move", 140, 40)
    assert reads == [2]
    monkeypatch.setattr(pen, "LIVE_INTERVAL_S", 3600.0)
    for y in range(50, 250, 10):
        send(pad, "mouse_move", 140, y)
    assert reads == [2], "moves within the interval do not read"
    send(pad, "mouse_up", 140, 250)
    assert reads == [2, 22], "releasing the pen always reads"


def test_live_predictions_appear_before_the_pen_is_lifted(pad: DrawingPad, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pen, "LIVE_INTERVAL_S", 0.0)
    send(pad, "mouse_down", *ONE[0])
    for point in ONE[1:]:
        send(pad, "mouse_move", *point)
    assert pad.predictions[0][0] == "1"


def test_a_stroke_leaving_the_canvas_ends(pad: DrawingPad) -> None:
    stroke(pad, [(140, 30), (140, 250), (140, 290)], end="mouse_out")
    send(pad, "mouse_move", 10, 10)  # back over the canvas with the button released outside
    assert pad.strokes == [[(140, 30), (140, 250), (140, 290)]]
    assert pad.predictions[0][0] == "1"


def test_touch_draws_like_the_mouse(pad: DrawingPad) -> None:
    for event, (x, y) in zip(["touch_start", "touch_move", "touch_move", "touch_end"], ONE + [ONE[-1]]):
        pad.canvas._handle_frontend_event(None, {"event": event, "touches": [{"x": x, "y": y}]}, [])
    assert pad.strokes == [ONE]
    assert pad.predictions[0][0] == "1"


def test_undo_removes_the_last_stroke(pad: DrawingPad) -> None:
    stroke(pad, ONE)
    one = pad.predictions
    stroke(pad, [(60, 140), (220, 140)])  # a cross bar: no longer a clean 1
    assert pad.predictions != one
    pad.undo()
    assert pad.strokes == [ONE]
    assert pad.predictions == one
    pad.undo()
    pad.undo()  # undoing nothing is harmless
    assert pad.strokes == []
    assert pad.predictions == []
    assert "Draw a character" in pad.status.value


def test_clear_wipes_drawing_and_guesses(pad: DrawingPad) -> None:
    stroke(pad, SEVEN)
    pad.clear_button.click()
    assert pad.strokes == []
    assert pad.predictions == []
    assert pad.seen is None
    assert "Draw a character" in pad.status.value
    assert not np.asarray(Image.open(io.BytesIO(pad.seen_image.value))).any()


def test_a_dot_asks_for_a_bigger_character(pad: DrawingPad) -> None:
    stroke(pad, [(140, 140)])
    assert pad.predictions == []
    assert "too small" in pad.status.value


@pytest.mark.parametrize(
    "points", [[(0, 0), (0, 140), (0, 280)], [(279, 0), (279, 279)]], ids=["left-edge", "right-edge"]
)
def test_strokes_at_the_very_edge_are_read(pad: DrawingPad, points: list[tuple[float, float]]) -> None:
    stroke(pad, points)
    assert len(pad.predictions) == 3
    assert pad.status.value == ""
    assert pad.predictions[0][0] == "1", "a vertical line at the edge is still a 1"


def test_what_is_not_one_character_is_refused_not_guessed(pad: DrawingPad) -> None:
    stroke(pad, [(-5, 140), (300, 140)])  # a line across the canvas and beyond it
    assert pad.predictions == []
    assert "I can&#x27;t read this: it is much wider than one character" in pad.status.value
    pad.clear()
    pad.draw(filled_blob(np.random.default_rng(0)))
    assert pad.predictions == []
    assert "filled-in patch" in pad.status.value
    assert pad.seen is not None, "the 28×28 image is still shown, so you can see why"


def test_switching_to_characters_rereads_with_the_emnist_model(pad: DrawingPad, emnist_recognizer: Recognizer) -> None:
    stroke(pad, ONE)
    pad.mode.value = "characters"
    assert pad.recognizer().classes == emnist_recognizer.classes
    assert len(pad.predictions) == 3
    assert all(char in emnist_recognizer.classes for char, _ in pad.predictions)
    assert pad.predictions[0][0] in {"1", "I", "L"}  # EMNIST Balanced files a written l under L
    pad.mode.value = "digits"
    assert pad.predictions[0][0] == "1"


def test_the_pad_says_whose_model_reads(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "SHIPPED_MODELS_DIR", models_dir)
    pad = DrawingPad(tmp_path)  # no model of yours there: the shipped ones read
    assert "shipped with the course (mnist_cnn.keras" in pad.source.value
    pad.mode.value = "characters"
    assert "shipped with the course (emnist_cnn.keras" in pad.source.value
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("mnist_cnn.keras", "mnist_cnn.labels.json"):
        (mine / name).write_bytes((models_dir / name).read_bytes())
    yours = DrawingPad(mine)
    stroke(yours, SEVEN)
    assert "your model" in yours.source.value
    assert str((mine / "mnist_cnn.keras").resolve()) in yours.source.value


def test_missing_model_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "SHIPPED_MODELS_DIR", tmp_path / "none")
    pad = DrawingPad(tmp_path)
    assert "04_mnist_improve_and_evaluate.ipynb" in pad.status.value
    assert pad.source.value == ""
    stroke(pad, SEVEN)
    assert pad.predictions == []
    assert "not found" in pad.status.value
    pad.mode.value = "characters"
    assert "06_emnist_train.ipynb" in pad.status.value


def test_uploading_a_photo_reads_it_and_shows_it(
    pad: DrawingPad, mnist_sample: Dataset, on_paper: Callable, mnist_recognizer: Recognizer
) -> None:
    digit = mnist_sample.x_test[0]
    expected = mnist_recognizer.top_k(digit)[0][0]
    assert expected == mnist_sample.classes[mnist_sample.y_test[0]]
    stroke(pad, SEVEN)
    upload(pad, png(on_paper(digit, size=(900, 600))))
    assert pad.strokes == []
    assert pad.picture is not None
    assert pad.predictions[0][0] == expected
    assert pad.status.value == ""
    assert pad.upload.value == (), "the upload is reset so the same file can be sent again"
    pad.mode.value = "characters"
    assert len(pad.predictions) == 3, "switching models rereads the uploaded picture"
    pad.mode.value = "digits"
    stroke(pad, ONE)  # drawing replaces the uploaded picture
    assert pad.picture is None
    assert pad.predictions[0][0] == "1"


@pytest.mark.parametrize("size", [pytest.param((4000, 3000), marks=pytest.mark.slow), (30, 24)], ids=["huge", "small"])
def test_huge_and_small_uploads_are_read(
    pad: DrawingPad, mnist_sample: Dataset, on_paper: Callable, size: tuple[int, int]
) -> None:
    upload(pad, png(on_paper(mnist_sample.x_test[1], size=size)))
    assert pad.predictions[0][0] == mnist_sample.classes[mnist_sample.y_test[1]]
    assert max(pad.picture.shape) <= 1024


def test_rgba_upload_with_transparent_paper(pad: DrawingPad, mnist_sample: Dataset) -> None:
    digit = np.asarray(Image.fromarray(mnist_sample.x_test[1]).resize((200, 200)))
    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[..., 3] = digit  # black ink, transparent elsewhere
    upload(pad, png(rgba))
    assert pad.predictions[0][0] == mnist_sample.classes[mnist_sample.y_test[1]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 not an image", "Could not read notes.pdf: not a readable image"),
        (png(np.zeros((1, 1), np.uint8)), "too small to read"),
        (png(np.full((300, 300), 255, np.uint8)), "The picture is blank: draw a character"),
    ],
    ids=["not-an-image", "one-pixel", "blank-page"],
)
def test_bad_uploads_give_a_clear_message(pad: DrawingPad, data: bytes, message: str) -> None:
    stroke(pad, SEVEN)
    upload(pad, data, "notes.pdf")
    assert message in pad.status.value
    assert pad.predictions == []
    assert pad.strokes == []
    stroke(pad, ONE)  # the pad still works
    assert pad.predictions[0][0] == "1"


def test_upload_values_of_ipywidgets_7_and_8_are_both_read() -> None:
    data = png(np.zeros((4, 4), np.uint8))
    version8 = ({"name": "a.png", "type": "image/png", "size": len(data), "content": memoryview(data)},)
    version7 = {"a.png": {"metadata": {"name": "a.png", "type": "image/png", "size": len(data)}, "content": data}}
    assert widget.uploaded_files(version8) == widget.uploaded_files(version7) == [("a.png", data)]
    assert widget.uploaded_files(()) == widget.uploaded_files({}) == []


def _sent_commands(pad: DrawingPad, monkeypatch: pytest.MonkeyPatch) -> list:
    """Record the command batches ipycanvas sends to the browser from now on (names, not arguments)."""
    from ipycanvas.canvas import COMMANDS

    names = {code: name for name, code in COMMANDS.items()}
    sent: list = []

    def record(command, buffers=()):
        batch = command if command and isinstance(command[0], list) else [command]
        sent.append([names.get(item[0], item[0]) for item in batch])

    monkeypatch.setattr(pad.canvas._canvas_manager, "_send_custom", record)
    return sent


def test_a_page_that_connects_late_gets_the_canvas_redrawn(pad: DrawingPad, monkeypatch: pytest.MonkeyPatch) -> None:
    """Voilà runs the notebook before the page connects, and a reload starts a new page: both announce themselves
    with client_ready, and the pad then re-sends everything, starting with ipycanvas' 'switchCanvas' command.
    This fails if a new ipycanvas stops honouring hcr_utils.pen.resend_canvas_switch."""
    stroke(pad, SEVEN)
    sent = _sent_commands(pad, monkeypatch)
    pad.canvas._handle_frontend_event(None, {"event": "client_ready"}, [])
    assert len(sent) == 1, "one batch (hold_canvas)"
    batch = sent[0]
    assert batch[0] == "switchCanvas", batch[:3]
    assert batch.count("set") >= 4  # the brush (width, cap, join) and the paper colour
    assert "fillRect" in batch
    assert "strokeLines" in batch  # paper, then the kept stroke
    assert pad.predictions[0][0] == "7", "the guesses are unchanged"


def test_saying_what_it_really_was_keeps_the_drawing(models_dir: Path, tmp_path: Path) -> None:
    from hcr_utils.samples import read_samples

    path = tmp_path / "mine.jsonl"
    pad = DrawingPad(models_dir, mode="characters", samples_path=path)
    pad.save_button.click()
    assert "Not saved: draw a character first" in pad.feedback.value
    assert not path.exists()
    stroke(pad, SEVEN)
    pad.truth.value = "%"
    pad.save_button.click()
    assert "is not one of the model&#x27;s characters" in pad.feedback.value
    assert not path.exists()
    pad.truth.value = "z"  # merged into Z in EMNIST Balanced
    pad.save_button.click()
    assert "Saved as Z: 1 drawing(s) in mine.jsonl" in pad.feedback.value
    assert pad.truth.value == ""
    pad.clear()
    stroke(pad, ONE)
    pad.save_correction("1")
    saved = read_samples(path)
    assert [s.label for s in saved] == ["Z", "1"]
    assert saved[0].strokes == [[(float(x), float(y)) for x, y in SEVEN]]
    assert np.array_equal(saved[1].image, pad.seen)  # the 28×28 image the model read


def test_characters_mode_can_answer_only_digits_or_only_letters(models_dir: Path) -> None:
    pad = DrawingPad(models_dir)
    assert pad.answers.layout.display == "none"  # digits mode: nothing to restrict
    pad.mode.value = "characters"
    assert pad.answers.layout.display == ""
    stroke(pad, ONE)
    pad.answers.value = "letters"
    assert pad.predictions
    assert all(char.isalpha() for char, _ in pad.predictions)
    assert (
        abs(sum(prob for _, prob in pad.recognizer().top_k(render_strokes([ONE]), k=47, allowed="letters")) - 1) < 1e-4
    )
    pad.answers.value = "digits"
    assert pad.predictions[0][0] == "1"
    assert all(char.isdigit() for char, _ in pad.predictions)


def test_touch_strokes_take_the_mouse_path(pad: DrawingPad) -> None:
    touches = [{"x": x, "y": y} for x, y in ONE]
    pad.canvas._handle_frontend_event(None, {"event": "touch_start", "touches": [touches[0]]}, [])
    for touch in touches[1:]:
        pad.canvas._handle_frontend_event(None, {"event": "touch_move", "touches": [touch]}, [])
    pad.canvas._handle_frontend_event(None, {"event": "touch_end", "touches": []}, [])
    assert pad.strokes == [ONE]
    assert pad.predictions[0][0] == "1"
    shown = [child.value for child in pad.children[0].children if hasattr(child, "value")]
    assert any("touch-action: none" in str(value) for value in shown)  # the page never scrolls under the pen
