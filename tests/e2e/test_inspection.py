"""tokenize, fill-mask and inspect on tiny models built in the test."""

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def tiny_mlm_dir(tiny_model_dir, tmp_path_factory):
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    directory = tmp_path_factory.mktemp("mlm")
    config = BertConfig.from_pretrained(tiny_model_dir)
    BertForMaskedLM(config).save_pretrained(directory)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(directory)
    return directory


def test_tokenize(tiny_model_dir):
    result = run_cli("tokenize", "i am happy", "--model", tiny_model_dir)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "5 tokens" in text and "[CLS]" in text and "happy" in text
    assert "maximum length: 64" in text


def test_fill_mask_gives_top_k(tiny_mlm_dir):
    result = run_cli("fill-mask", "i am [MASK] today", "--model", tiny_mlm_dir, "--top-k", "3")
    assert result.exit_code == 0, result.output + str(result.exception)
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 3


def test_fill_mask_refuses_a_model_without_mlm_head(tiny_model_dir):
    result = run_cli("fill-mask", "i am [MASK] today", "--model", tiny_model_dir)
    assert result.exit_code == 2
    assert "has no trained masked-LM head" in result.stderr


def test_fill_mask_needs_a_mask(tiny_mlm_dir):
    result = run_cli("fill-mask", "no mask here", "--model", tiny_mlm_dir)
    assert result.exit_code == 2 and "the text has no mask token" in result.stderr


def test_inspect_shapes(tiny_model_dir):
    result = run_cli("inspect", tiny_model_dir, "--text", "i am happy")
    assert result.exit_code == 0, result.output + str(result.exception)
    text = " ".join(result.stdout.split())
    assert "(1, 5, 32)" in text  # last_hidden_state: batch 1, 5 tokens, hidden 32
    assert "hidden_states (3 tensors, each)" in text and "(1, 2, 5, 5)" in text  # attentions: 2 heads
