import numpy as np
import pytest

from fineclass.inference.predictor import Predictor, split_by_length
from fineclass.labels import LabelSpace
from fineclass.modeling import build_model, load_tokenizer


def make_predictor(model_dir, batch_size, multi_label=False):
    space = LabelSpace(("a", "b", "c"), multi_label)
    return Predictor(build_model(str(model_dir), space), load_tokenizer(str(model_dir)), batch_size=batch_size)


def test_length_sorted_batches_keep_input_order(tiny_model_dir):
    texts = ["i", "i feel so happy today and the day was very glad", "sad", "am happy", "the day was", "mad mad mad mad"]
    predictor = make_predictor(tiny_model_dir, batch_size=2)
    batched = predictor.predict_logits(texts)
    predictor.batch_size = 1
    one_by_one = np.vstack([predictor.predict_logits([t]) for t in texts])
    assert not np.allclose(batched[0], batched[1])  # different texts: a reordering would show
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_split_by_length_cuts_where_padding_costs_more_than_a_pass():
    # 4 short texts and 2 long ones: one pass pads 6 x 64 = 384 tokens; two cost 4 x 8 + 2 x 64 + one extra pass.
    assert split_by_length(np.array([5, 6, 7, 8, 60, 64]), call_cost_tokens=100) == [slice(0, 4), slice(4, 6)]
    assert split_by_length(np.array([5, 6, 7, 8, 60, 64]), call_cost_tokens=300) == [slice(0, 6)]
    # Lengths are rounded up to the pad multiple first; similar lengths are not worth a second pass.
    assert split_by_length(np.array([8, 10, 12, 16]), call_cost_tokens=1, pad_multiple=8) == [slice(0, 1), slice(1, 4)]
    assert split_by_length(np.array([9, 10, 12, 16]), call_cost_tokens=1, pad_multiple=8) == [slice(0, 4)]
    assert split_by_length(np.array([20, 20, 21]), call_cost_tokens=10) == [slice(0, 3)]
    assert split_by_length(np.array([7]), call_cost_tokens=0) == [slice(0, 1)]
    assert split_by_length(np.array([1, 2, 3]), call_cost_tokens=0) == [slice(0, 1), slice(1, 2), slice(2, 3)]


class ShapeRecorder:
    """A backend wrapper that records the shape of every forward pass."""

    def __init__(self, inner, call_cost_tokens):
        self.inner, self.config, self.call_cost_tokens, self.shapes = inner, inner.config, call_cost_tokens, []

    def __call__(self, batch):
        self.shapes.append(batch["input_ids"].shape)
        return self.inner(batch)


def test_mixed_lengths_split_into_passes_keep_input_order(tiny_model_dir):
    texts = ["i", "a " * 200, "sad", "the day was very long " * 10, "am happy", "mad"]
    predictor = make_predictor(tiny_model_dir, batch_size=64)
    predictor.backend = recorder = ShapeRecorder(predictor.backend, call_cost_tokens=1)  # split wherever lengths differ
    split = predictor.predict_logits(texts)
    assert len(recorder.shapes) > 1 and len({shape[1] for shape in recorder.shapes}) > 1
    one_by_one = np.vstack([predictor.predict_logits([t]) for t in texts])
    np.testing.assert_allclose(split, one_by_one, atol=1e-5)


def test_warm_up_runs_several_shapes(tiny_model_dir):
    predictor = make_predictor(tiny_model_dir, batch_size=64)
    predictor.backend = recorder = ShapeRecorder(predictor.backend, call_cost_tokens=48)
    predictor.warm_up()
    assert len(set(recorder.shapes)) == 3


@pytest.mark.parametrize("text", ["i", "i feel so happy today", "sad " * 500, ""])
def test_single_text_encoding_matches_the_tokenizer(tiny_model_dir, text):
    predictor = make_predictor(tiny_model_dir, batch_size=4)
    assert predictor._single_text_tokenizer is not None
    expected = predictor.tokenizer([text], truncation=True, max_length=predictor.max_length)
    encoded = predictor.encode([text])
    assert set(encoded) == set(predictor.tokenizer.model_input_names)
    assert all(encoded[k] == expected[k] for k in encoded)
    assert len(encoded["input_ids"][0]) <= predictor.max_length


def test_single_text_encoding_follows_a_later_truncation_side(tiny_model_dir):
    predictor = make_predictor(tiny_model_dir, batch_size=4)
    predictor.tokenizer.truncation_side = "left"
    try:
        text = "happy " + "sad " * 100
        expected = predictor.tokenizer([text], truncation=True, max_length=predictor.max_length)["input_ids"]
        assert predictor.encode([text])["input_ids"] == expected
    finally:
        predictor.tokenizer.truncation_side = "right"


def test_a_model_off_the_cpu_is_never_split(tiny_model_dir):
    from fineclass.inference.backends import TorchBackend

    model = make_predictor(tiny_model_dir, batch_size=4).backend.model
    assert TorchBackend(model).call_cost_tokens is not None
    assert TorchBackend(model, device="meta").call_cost_tokens is None  # as on a GPU, without one


def test_multilabel_decisions_use_thresholds(tiny_model_dir):
    predictor = make_predictor(tiny_model_dir, batch_size=4, multi_label=True)
    probs = np.array([[0.9, 0.4, 0.6]])
    assert predictor.decide(["x"], probs, top_k=2)[0].labels == ["a", "c"]
    assert predictor.decide(["x"], probs, threshold=0.3)[0].labels == ["a", "c", "b"]
    predictor.thresholds = np.array([0.95, 0.3, 0.5])
    decided = predictor.decide(["x"], probs, top_k=2)[0]
    assert decided.labels == ["c", "b"] and decided.top_k[0][0] == "a"


def test_empty_input(tiny_model_dir):
    assert make_predictor(tiny_model_dir, 4).predict([]) == []


def test_bf16_predictions_agree_with_fp32(tiny_model_dir):
    texts = ["i", "i feel so happy today and the day was very glad", "sad", "am happy", "mad mad mad mad"]
    space = LabelSpace(("a", "b", "c"), False)
    import torch

    torch.manual_seed(0)
    model = build_model(str(tiny_model_dir), space)
    fp32 = Predictor(model, load_tokenizer(str(tiny_model_dir)), batch_size=2).predict_logits(texts)
    bf16 = Predictor(model, load_tokenizer(str(tiny_model_dir)), batch_size=2, precision="bf16")
    assert next(bf16.backend.model.parameters()).dtype == torch.bfloat16
    np.testing.assert_allclose(bf16.predict_logits(texts), fp32, atol=0.05)


@pytest.mark.slow
def test_compiled_predictor_matches_eager(tiny_model_dir):
    texts = ["i", "i feel so happy today and the day was very glad", "sad", "am happy", "mad mad mad mad"]
    eager = make_predictor(tiny_model_dir, batch_size=2)
    compiled = Predictor(eager.backend.model, eager.tokenizer, batch_size=2, compile=True)
    compiled.warm_up()  # what serve --compile runs before it listens
    np.testing.assert_allclose(compiled.predict_logits(texts), eager.predict_logits(texts), atol=1e-4)


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_predictor_on_cuda_matches_the_cpu(tiny_model_dir):
    import copy

    texts = ["i", "i feel so happy today and the day was very glad", "sad", "am happy", "mad mad mad mad"]
    on_cpu = make_predictor(tiny_model_dir, batch_size=2)
    gpu = Predictor(copy.deepcopy(on_cpu.backend.model), on_cpu.tokenizer, batch_size=2, device="cuda")
    assert next(gpu.backend.model.parameters()).device.type == "cuda"
    np.testing.assert_allclose(gpu.predict_logits(texts), on_cpu.predict_logits(texts), atol=1e-4)
