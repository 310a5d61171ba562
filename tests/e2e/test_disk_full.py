"""A real full disk: train into a 256 KiB tmpfs. Needs the right to mount (root in a container); skipped otherwise.

torch.save reports a full disk as a RuntimeError ("unexpected pos"), not an OSError, and safetensors as
its own error type, which is why a simulated ENOSPC alone (in the bad-input catalogue) is not enough.
"""

import subprocess

import pytest

from tests.conftest import make_texts, run_cli


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def test_a_full_disk_during_training_is_one_line(tiny_model_dir, tmp_path, small_disk):
    data = tmp_path / "d.csv"
    make_texts(300).to_csv(data, index=False)
    before = data.read_bytes()
    out = small_disk / "run"
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", out, "--epochs", "1", "--quiet", "--no-baseline")
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: no space left on the device that holds {out}; the run there is incomplete: free some space or "
        "choose another --output-dir, then run again with --overwrite (or --resume if a checkpoint was saved)")
    assert "Traceback" not in result.output
    assert data.read_bytes() == before
    assert not (out / "model").exists() and not (out / "metrics.json").exists()  # nothing looks complete


def test_a_full_disk_while_writing_an_evaluation_report_is_one_line(tiny_model_dir, tmp_path, small_disk):
    from tests.e2e.classifier import save_untrained_classifier

    model = save_untrained_classifier(tiny_model_dir, tmp_path / "classifier")
    data = tmp_path / "d.csv"
    make_texts(60).drop(columns="label").rename(columns={"label_name": "label"}).to_csv(data, index=False)
    (small_disk / "filler").write_bytes(b"x" * (240 * 1024))  # leave about 16 KiB: the plots do not fit
    out = small_disk / "report"
    result = run_cli("evaluate", model, data, "--report-dir", out)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: no space left on the device that holds {out}; the report there is incomplete: free some space or "
        "choose another --report-dir, then run again with --overwrite")
    assert "Traceback" not in result.output
