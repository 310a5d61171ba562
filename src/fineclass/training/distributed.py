"""Several processes (torchrun, accelerate launch): who writes outputs, and figures over all processes."""

from __future__ import annotations

import dataclasses
import itertools
import os

import torch

from fineclass.training.throughput import TokenCounter

_RUNS = itertools.count()


def is_main_process() -> bool:
    """Rank 0 under torchrun or accelerate launch (which set RANK); always true in a single process."""
    return int(os.environ.get("RANK", "0")) == 0


def is_distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def sum_over_processes(counter: TokenCounter) -> TokenCounter:
    """Every rank's token counts added up, so throughput is the whole job's, not rank 0's share.

    Every rank must call it. The sums go through the process group's key-value store, not a tensor
    all_reduce: a gloo worker thread still releasing a Python tensor when the group is torn down waits
    for the GIL that the tearing-down thread holds, and the process never exits.
    """
    if not is_distributed():
        return counter
    store = torch.distributed.distributed_c10d._get_default_store()
    run = next(_RUNS)  # several trainings in one job (as `compare` runs them) each get their own keys
    prefix = f"fineclass/throughput/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/{run}/"
    names = [f.name for f in dataclasses.fields(TokenCounter)]
    for name in names:
        store.add(prefix + name, getattr(counter, name))
    torch.distributed.barrier()  # every rank has added its counts
    return TokenCounter(**{name: store.add(prefix + name, 0) for name in names})


def end_process_group() -> None:
    """After multi-process training, let every rank leave together; rank 0 then works alone."""
    if is_distributed():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
