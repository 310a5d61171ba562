"""Device and precision resolution: auto follows the hardware; bad names are one-line errors."""

import pytest

from fineclass.errors import ConfigError


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
