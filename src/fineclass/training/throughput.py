"""Training throughput: samples, real and padded tokens per second, and estimated MFU."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenCounter:
    """Counts what the training steps really processed."""

    samples: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    padded_length_sum: int = 0
    batches: int = 0

    def add(self, attention_mask) -> None:
        self.samples += int(attention_mask.shape[0])
        self.real_tokens += int(attention_mask.sum())
        self.padded_tokens += int(attention_mask.numel())
        self.padded_length_sum += int(attention_mask.shape[1])
        self.batches += 1


def training_flops_per_token(model_config, non_embedding_params: int, seq_len: float) -> float:
    """≈ 6·N + 12·L·T·d: weights forward and backward, plus attention scores over T tokens."""
    layers = getattr(model_config, "num_hidden_layers", 0)
    hidden = getattr(model_config, "hidden_size", 0)
    return 6 * non_embedding_params + 12 * layers * seq_len * hidden


def non_embedding_parameters(model) -> int:
    embeddings = model.get_input_embeddings()
    skip = {id(p) for p in embeddings.parameters()}
    base = getattr(model, "base_model", model)
    for name in ("position_embeddings", "token_type_embeddings"):
        module = getattr(getattr(base, "embeddings", None), name, None)
        if module is not None:
            skip |= {id(p) for p in module.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in skip)


def throughput_report(counter: TokenCounter, seconds: float, model, peak_gflops: float | None, world_size: int = 1) -> dict:
    """Rates over `seconds` of wall time. `counter` holds every process's counts (summed), so the rates are
    the whole job's; MFU divides by the peak of one process's device times the number of processes."""
    if seconds <= 0 or counter.batches == 0:
        return {}
    mean_len = counter.padded_length_sum / counter.batches
    flops = training_flops_per_token(model.config, non_embedding_parameters(model), mean_len) * counter.real_tokens
    report = {
        "seconds": round(seconds, 2),
        "samples": counter.samples,
        "samples_per_second": round(counter.samples / seconds, 2),
        "real_tokens_per_second": round(counter.real_tokens / seconds, 1),
        "padded_tokens_per_second": round(counter.padded_tokens / seconds, 1),
        "padding_share": round(1 - counter.real_tokens / max(counter.padded_tokens, 1), 4),
        "achieved_gflops": round(flops / seconds / 1e9, 2),
        "throughput_scope": f"all {world_size} processes (counts summed across ranks)" if world_size > 1 else "one process",
    }
    if peak_gflops:
        report["peak_gflops"] = round(peak_gflops, 1)
        report["mfu"] = round(flops / seconds / 1e9 / (peak_gflops * world_size), 4)
    return report
