"""Look inside a tokenizer and a model: tutorial 003's tokenizer, masked-word and tensor-shape sections."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fineclass.errors import ModelError, first_line


@dataclass
class TokenizedText:
    tokens: list[str]
    input_ids: list[int]
    attention_mask: list[int]
    special_tokens: dict[str, str]
    vocab_size: int
    max_length: int


def tokenize_text(tokenizer, text: str) -> TokenizedText:
    encoded = tokenizer(text)
    return TokenizedText(
        tokens=tokenizer.convert_ids_to_tokens(encoded["input_ids"]),
        input_ids=list(encoded["input_ids"]),
        attention_mask=list(encoded["attention_mask"]),
        special_tokens={name: str(value) for name, value in tokenizer.special_tokens_map.items()},
        vocab_size=len(tokenizer),
        max_length=int(min(tokenizer.model_max_length, 10**6)),
    )


def fill_mask(model_path: str, tokenizer, text: str, top_k: int = 5) -> list[tuple[str, float]]:
    """The top-k tokens for the [MASK] position, with softmax probabilities."""
    from transformers import AutoModelForMaskedLM

    if tokenizer.mask_token is None or tokenizer.mask_token not in text:
        raise ModelError(f"the text has no mask token; write {tokenizer.mask_token or '[MASK]'} where the word should go")
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(model_path, output_loading_info=True)
    except (OSError, ValueError) as err:
        raise ModelError(f"{model_path} cannot be loaded as a masked language model: {first_line(err)}") from None
    head_missing = [k for k in info.get("missing_keys", []) if "predictions" in k or "lm_head" in k]
    if head_missing:
        raise ModelError(
            f"{model_path} has no trained masked-LM head (missing {head_missing[0]}), so its guesses would be random; "
            "use a model trained with masked language modelling, like bert-base-uncased"
        )
    inputs = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        logits = model.eval()(**inputs).logits
    position = (inputs["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0]
    probs = logits[0, position].softmax(-1)
    top = torch.topk(probs, k=top_k)
    return [(tokenizer.convert_ids_to_tokens(int(i)), float(p)) for p, i in zip(top.values, top.indices)]


def model_sizes(model) -> dict:
    """Architecture, layers, width, and the parameter counts of the whole model and of its classification head."""
    config = model.config
    head = getattr(model, "classifier", None)
    return {
        "architecture": (config.architectures or [type(model).__name__])[0],
        "layers": getattr(config, "num_hidden_layers", None),
        "hidden_size": getattr(config, "hidden_size", None),
        "parameters": sum(p.numel() for p in model.parameters()),
        "head_parameters": sum(p.numel() for p in head.parameters()) if head is not None else 0,
    }


def model_summary(model, base: str) -> dict:
    """Tutorial 003's parameter counts for metrics.json: the whole model, and the new classification head's share."""
    sizes = model_sizes(model)
    return {"base": base, **sizes, "head_share": round(sizes["head_parameters"] / sizes["parameters"], 6)}


def describe_model(model, tokenizer, text: str = "Tokenization is unbelievably important!") -> dict:
    """Architecture, sizes, head and label map, and the tensor shapes of one forward pass."""
    config = model.config
    head = getattr(model, "classifier", None)
    inputs = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        outputs = model.eval()(**inputs, output_hidden_states=True, output_attentions=True)
    shapes = {f"input {k}": tuple(v.shape) for k, v in inputs.items()}
    for key, value in outputs.items():
        if isinstance(value, torch.Tensor):
            shapes[key] = tuple(value.shape)
        elif isinstance(value, tuple) and value and isinstance(value[0], torch.Tensor):
            shapes[f"{key} ({len(value)} tensors, each)"] = tuple(value[0].shape)
    return {
        **model_sizes(model),
        "model_type": config.model_type,
        "attention_heads": getattr(config, "num_attention_heads", None),
        "head": repr(head) if head is not None else None,
        "problem_type": config.problem_type,
        "id2label": {int(k): v for k, v in config.id2label.items()} if head is not None else {},
        "shapes": shapes,
    }
