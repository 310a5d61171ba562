"""compute_last_layer_for_cls_only: the same logits and gradients as the full last layer, the same saved weights."""

from __future__ import annotations

import copy
import shutil

import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertTokenizer, DistilBertConfig, DistilBertForSequenceClassification

from fineclass.modeling import append_mean_pooling_layer, compute_last_layer_for_cls_only


def pair_of_models(model_dir, attention: str, mean_layer: bool):
    torch.manual_seed(0)
    full = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=3, attn_implementation=attention)
    if mean_layer:
        append_mean_pooling_layer(full)
    fast = copy.deepcopy(full)
    assert compute_last_layer_for_cls_only(fast)
    return full.eval(), fast.eval()


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("mean_layer", [False, True])
def test_cls_only_last_layer_gives_the_full_layers_logits_and_gradients(tiny_model_dir, attention, mean_layer):
    full, fast = pair_of_models(tiny_model_dir, attention, mean_layer)
    tokenizer = BertTokenizer.from_pretrained(tiny_model_dir)
    batch = tokenizer(["love love", "hello how are you love you", "you"], padding=True, return_tensors="pt")
    assert batch["attention_mask"].min() == 0  # padded rows: the mask must reach the [CLS] query
    labels = torch.tensor([0, 2, 1])
    expected, got = full(**batch, labels=labels), fast(**batch, labels=labels, output_hidden_states=True)
    torch.testing.assert_close(got.logits, expected.logits, atol=1e-6, rtol=1e-5)
    expected.loss.backward()
    got.loss.backward()
    for (name, a), b in zip(full.named_parameters(), fast.parameters()):
        torch.testing.assert_close(b.grad, a.grad, atol=1e-6, rtol=1e-4, msg=name)
    assert got.hidden_states[-1].shape == (3, 1, full.config.hidden_size)  # the last layer kept [CLS] only


def test_cls_only_last_layer_leaves_the_saved_model_unchanged(tiny_model_dir, tmp_path):
    full, fast = pair_of_models(tiny_model_dir, "sdpa", mean_layer=False)
    fast.save_pretrained(tmp_path)
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    assert set(reloaded.state_dict()) == set(full.state_dict())
    ids = torch.tensor([[2, 5, 6, 7, 3]])
    assert reloaded.bert(input_ids=ids).last_hidden_state.shape == (1, 5, full.config.hidden_size)  # a full layer again
    torch.testing.assert_close(reloaded(input_ids=ids).logits, full(input_ids=ids).logits)


def test_cls_only_last_layer_leaves_other_architectures_alone():
    config = DistilBertConfig(vocab_size=50, dim=16, n_layers=1, n_heads=2, hidden_dim=32, max_position_embeddings=16)
    model = DistilBertForSequenceClassification(config)
    before = model.distilbert.transformer.layer[-1].forward
    assert not compute_last_layer_for_cls_only(model)
    assert model.distilbert.transformer.layer[-1].forward == before


@pytest.mark.parametrize("declared, positions, expected", [
    (64, 128, 64), ("x", 128, 128), (0, 128, 128), (True, None, 512), (10**30, 256, 256), (None, "many", 512),
])
def test_the_window_ignores_limits_a_config_file_states_wrongly(declared, positions, expected):
    from types import SimpleNamespace

    from fineclass.modeling import model_max_length

    window = model_max_length(SimpleNamespace(model_max_length=declared), SimpleNamespace(max_position_embeddings=positions), None)
    assert window == expected


def test_a_tokenizer_without_a_padding_token_is_refused_before_any_batch(tiny_model_dir, tmp_path):
    import json
    import shutil

    from fineclass.errors import ModelError
    from fineclass.modeling import load_tokenizer

    base = shutil.copytree(tiny_model_dir, tmp_path / "nopad")
    config = json.loads((base / "tokenizer_config.json").read_text())
    config["pad_token"] = None
    config["added_tokens_decoder"] = {k: v for k, v in config.get("added_tokens_decoder", {}).items() if v["content"] != "[PAD]"}
    (base / "tokenizer_config.json").write_text(json.dumps(config))
    (base / "special_tokens_map.json").unlink(missing_ok=True)
    with pytest.raises(ModelError) as err:
        load_tokenizer(str(base))
    assert str(err.value) == (f"the tokenizer of {str(base)!r} has no padding token; copy the tokenizer files of its base "
                              "model there, or set pad_token in its tokenizer_config.json")


def test_a_new_head_loads_quietly_and_other_missing_weights_are_named(tiny_model_dir, tmp_path, caplog, capfd):
    """The new head is what fine-tuning trains, so transformers' report of it is not shown; any other weight the
    checkpoint lacks starts random, and that is said in one line."""
    import logging

    from safetensors.torch import load_file, save_file

    from fineclass.labels import LabelSpace
    from fineclass.modeling import build_model

    space = LabelSpace(("a", "b"), multi_label=False)
    with caplog.at_level(logging.WARNING):
        build_model(str(tiny_model_dir), space)
    assert "MISSING" not in capfd.readouterr().err + caplog.text
    assert not [r for r in caplog.records if r.name == "fineclass.modeling"]

    no_pooler = tmp_path / "no-pooler"
    shutil.copytree(tiny_model_dir, no_pooler)
    weights = load_file(no_pooler / "model.safetensors")
    save_file({k: v for k, v in weights.items() if not k.startswith("pooler.")}, no_pooler / "model.safetensors",
              metadata={"format": "pt"})
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build_model(str(no_pooler), space)
    assert (f"{no_pooler}: 2 weights outside the classification head are not in the checkpoint and start random, "
            "like bert.pooler.dense.bias") in caplog.text


def test_an_added_token_past_the_embeddings_is_a_warning(tiny_model_dir, caplog):
    """Only texts with the added token would fail, so the model still loads; the warning says which ids."""
    import logging

    from transformers import AutoConfig, AutoTokenizer

    from fineclass.modeling import check_vocabulary

    tokenizer, config = AutoTokenizer.from_pretrained(tiny_model_dir), AutoConfig.from_pretrained(tiny_model_dir)
    with caplog.at_level(logging.WARNING):
        check_vocabulary(tokenizer, config, "tiny")
        assert not caplog.records
        tokenizer.add_tokens(["brandnewword"])
        check_vocabulary(tokenizer, config, "tiny")
    assert caplog.records[0].getMessage() == (
        "the tokenizer of tiny has 36 token ids, the model's embeddings 35: a text with one of the last 1 tokens will "
        "fail; copy the tokenizer files of its base model there, or resize the model's embeddings to the tokenizer")
