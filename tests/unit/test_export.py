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


def test_bf16_falls_back_to_fp32_without_native_support(monkeypatch):
    import torch

    from fineclass import devices as hardware

    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert hardware.resolve_precision("bf16") == "fp32"
    assert hardware.resolve_precision("auto") == "fp32"
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: True)
    assert hardware.resolve_precision("auto") == "bf16"
    assert hardware.resolve_precision("fp32") == "fp32"


def test_device_auto_follows_cuda_and_precision_follows_the_device(monkeypatch):
    import torch

    from fineclass import devices as hardware
    from fineclass.errors import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert hardware.resolve_device("auto") == "cpu"
    with pytest.raises(ConfigError, match="torch sees no CUDA GPU here"):
        hardware.resolve_device("cuda:0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: False)
    assert hardware.resolve_device("auto") == "cuda" and hardware.resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(ConfigError, match="sees 1 GPU"):
        hardware.resolve_device("cuda:1")
    for bad in ("cuda:x", "cuda0", "cuda:", "cuda:01", "gpu"):
        with pytest.raises(ConfigError, match=f"got '{bad}'"):
            hardware.resolve_device(bad)
    # A GPU in the machine does not make a CPU run bf16 on a CPU without native bf16.
    assert hardware.resolve_precision("auto", "cuda") == "bf16"
    assert hardware.resolve_precision("auto", "cpu") == "fp32"


def test_default_head_lr_scale_is_the_measured_one():
    from fineclass.config import TrainConfig

    assert TrainConfig().head_lr_scale == 20.0 and TrainConfig().precision == "auto"


def test_onnx_batches_keep_input_order(classifier_dir, tmp_path):
    target = export_onnx(classifier_dir, tmp_path / "onnx")
    texts = [" ".join(TEXTS[i % len(TEXTS)].split()[: 1 + i % 5]) for i in range(200)]
    predictor = Predictor.from_dir(target, batch_size=4)
    one_by_one = np.vstack([predictor.predict_logits([t]) for t in texts])
    np.testing.assert_allclose(predictor.predict_logits(texts), one_by_one, atol=1e-5)