"""Build the model a run trains, with its surgery steps, and write the run's inputs into its directory."""

from __future__ import annotations

import logging

from transformers import set_seed

from fineclass.config import save_config
from fineclass.data.split import label_shares
from fineclass.modeling import append_mean_pooling_layer, build_model, compute_last_layer_for_cls_only, reinit_top_layers
from fineclass.outputs import atomic_path, prepare_output_dir, record_entries
from fineclass.recipes.train.hooks import TrainHooks
from fineclass.recipes.train.setup import TrainSetup
from fineclass.rundir import CONFIG, DATA, SPLITS, SplitsRecord
from fineclass.training.distributed import is_main_process
from fineclass.training.small_data import fit_linear_probe

logger = logging.getLogger(__name__)


def open_run_dir(setup: TrainSetup) -> None:
    """Clear what an earlier run wrote and start the manifest (rank 0; a continued run keeps its directory)."""
    if not setup.checkpoint and is_main_process():
        # --resume with no complete checkpoint starts over in the run's own directory: a continuation, not an overwrite
        prepare_output_dir(setup.out, setup.kind, setup.config.overwrite, setup.inputs, resume=setup.resume)


def build(setup: TrainSetup, announce=logger.info):
    """The pretrained encoder with a new head, then the surgery the settings ask for, in the order it must run."""
    config = setup.config
    set_seed(config.seed)  # the new head's initial weights depend on it
    model = build_model(setup.model_path, setup.label_space, setup.long_texts_record["attention_dropout"])
    if config.reinit_layers:
        reinit_top_layers(model, config.reinit_layers)  # before the mean layer: it re-initialises pretrained layers only
    if setup.pooling == "mean" and not append_mean_pooling_layer(model):
        setup.pooling = "cls"
        setup.pooling_reason = f"cls: {type(model).__name__} has no BERT layer to append for mean pooling"
        logger.warning("--pooling mean: %s", setup.pooling_reason)
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.cls_only_last_layer:
        compute_last_layer_for_cls_only(model)  # after the mean layer, which then is the last one
    if config.linear_probe and not setup.checkpoint:
        rows = fit_linear_probe(model, setup.tokenizer, setup.encoded["train"][0], setup.label_space)
        announce(f"linear probe: the head starts from a logistic regression on {rows} training rows' features"
                 if rows else "linear probe: skipped, the training rows hold one class")
    return model


def write_run_inputs(setup: TrainSetup, hooks: TrainHooks | None = None) -> None:
    """The resolved config, the split record, and each split's rows, so `evaluate` uses exactly this test set
    (rank 0, and not again when a run continues from a checkpoint)."""
    if setup.checkpoint or not is_main_process():
        return
    out, frames, task = setup.out, setup.frames, setup.task
    config = (hooks or TrainHooks()).recorded_config(setup.config)
    record_entries(out, CONFIG, DATA, SPLITS)
    save_config(config, out / CONFIG)
    (out / DATA).mkdir(exist_ok=True)
    for split, frame in frames.items():
        kept = [c for c in ("row", "text", "text_pair", "labels", "targets") if c in frame.columns]
        with atomic_path(out / DATA / f"{split}.jsonl") as tmp:
            frame[kept].to_json(tmp, orient="records", lines=True, force_ascii=False)
    SplitsRecord(
        source=config.data, seed=config.seed, split=list(config.split), text_column=task.text_column,
        label_column=task.label_column, rows={split: [int(r) for r in frame["row"]] for split, frame in frames.items()},
        label_shares=label_shares(frames, task.label_space.names), reading=task.reading(),
        sampled_from={split: frame.attrs["sampled_from"] for split, frame in frames.items() if "sampled_from" in frame.attrs},
    ).write(out)
