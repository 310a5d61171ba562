"""Catalogue cases for `fineclass tune`: its space file, storage and timeout, refused before any trial runs."""

from pathlib import Path

from tests.e2e.bad_input_registry import case, write_toy

TUNE = "tune d.csv -o out --model tiny --trials 1"


@case(f"{TUNE} --space space.yaml", "a --space key that is not a setting tune searches",
      "--space space.yaml: 'learnin_rate' is not a setting tune searches; use any of learning_rate, head_lr_scale, "
      "epochs, batch_size, warmup_ratio, weight_decay, class_weights, pos_weight, thresholds, model, layer_lr_decay, "
      "reinit_layers, gradient_accumulation_steps, early_stopping, max_length, pooling, linear_probe, "
      "freeze_embeddings, attention_dropout", "spell the setting as train's option names it")
def tune_unknown_space_key(ctx):
    write_toy()
    Path("space.yaml").write_text("learnin_rate: {low: 1.0e-5, high: 5.0e-4, log: true}\n")


@case(f"{TUNE} --space space.yaml", "a --space range whose low is above its high",
      "--space space.yaml: learning_rate low 0.0005 is above high 1e-05; give low <= high", "swap low and high")
def tune_bad_range(ctx):
    write_toy()
    Path("space.yaml").write_text("learning_rate: {low: 5.0e-4, high: 1.0e-5, log: true}\n")


@case(f"{TUNE} --space space.yaml --learning-rate 1e-4", "a setting both searched in --space and fixed by its flag",
      "--space space.yaml: learning_rate is also given as --learning-rate (or in --config), which fixes it; leave it "
      "out of one of them", "drop the flag, or the space entry")
def tune_space_and_flag(ctx):
    write_toy()
    Path("space.yaml").write_text("learning_rate: {low: 1.0e-5, high: 5.0e-4, log: true}\n")


@case(f"{TUNE} --storage redis://localhost/0", "a --storage tune cannot use",
      "--storage 'redis://localhost/0' is not a storage tune can use; give journal:PATH, sqlite:///PATH, "
      "or a database URL: postgresql://... or mysql://...", "give journal:PATH or a database URL")
def tune_bad_storage(ctx):
    write_toy()


@case(f"{TUNE} --timeout 45x", "a --timeout that is not a duration",
      "--timeout '45x' must be a duration like 45m, 2h, 90s or 1h30m", "write it like 45m, 2h or 90s")
def tune_bad_timeout(ctx):
    write_toy()
