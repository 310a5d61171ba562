import numpy as np
import pytest

from fineclass.errors import ConfigError
from fineclass.inference.export import export_onnx
from fineclass.inference.predictor import Predictor
from fineclass.labels import LabelSpace
from fineclass.modeling import build_model, load_tokenizer

TEXTS = ["i am happy and furious", "sad", "glad and mad today is the day", "the day was very gloomy and i feel down"]


@pytest.fixture(scope="module")
def classifier_dir(tiny_model_dir, tmp_path_factory):
    directory = tmp_path_factory.mktemp("clf") / "model"
    build_model(str(tiny_model_dir), LabelSpace(("a", "b", "c"), False)).save_pretrained(directory)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(directory)
    return directory


def test_onnx_matches_torch(classifier_dir, tmp_path):
    target = export_onnx(classifier_dir, tmp_path / "onnx")
    torch_logits = Predictor.from_dir(classifier_dir, batch_size=2).predict_logits(TEXTS)
    onnx_predictor = Predictor.from_dir(target, batch_size=2)
    np.testing.assert_allclose(onnx_predictor.predict_logits(TEXTS), torch_logits, atol=1e-4)
    assert onnx_predictor.label_space.names == ("a", "b", "c")


def test_int8_stays_close(classifier_dir, tmp_path):
    target = export_onnx(classifier_dir, tmp_path / "int8", quantize="int8")
    torch_logits = Predictor.from_dir(classifier_dir).predict_logits(TEXTS)
    assert np.abs(Predictor.from_dir(target).predict_logits(TEXTS) - torch_logits).max() < 0.2


def test_export_refuses_to_overwrite_and_bad_quantize(classifier_dir, tmp_path):
    export_onnx(classifier_dir, tmp_path / "onnx")
    with pytest.raises(ConfigError, match="is not empty; pass --overwrite"):
        export_onnx(classifier_dir, tmp_path / "onnx")
    with pytest.raises(ConfigError, match="--quantize 'int4' is not supported"):
        export_onnx(classifier_dir, tmp_path / "x", quantize="int4")


def test_default_head_lr_scale_is_the_measured_one():
    from fineclass.config import TrainConfig

    assert TrainConfig().head_lr_scale == 20.0 and TrainConfig().precision == "auto"


def test_onnx_batches_keep_input_order(classifier_dir, tmp_path):
    target = export_onnx(classifier_dir, tmp_path / "onnx")
    texts = [" ".join(TEXTS[i % len(TEXTS)].split()[: 1 + i % 5]) for i in range(200)]
    predictor = Predictor.from_dir(target, batch_size=4)
    one_by_one = np.vstack([predictor.predict_logits([t]) for t in texts])
    np.testing.assert_allclose(predictor.predict_logits(texts), one_by_one, atol=1e-5)