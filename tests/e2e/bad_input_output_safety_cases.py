"""Catalogue cases added for safety: output directories. --overwrite removes only what fineclass wrote, and never
an input; --resume continues only a run."""

import json
from pathlib import Path

from tests.e2e.bad_input_registry import case, write_toy  # noqa: F401


def fineclass_output(directory: str, command: str, entries: dict[str, str]) -> None:
    """A directory as `command` leaves it: its files, and its manifest listing them."""
    for name, text in entries.items():
        Path(directory, name).parent.mkdir(parents=True, exist_ok=True)
        Path(directory, name).write_text(text)
    top = sorted({name.split("/")[0] for name in entries})
    Path(directory, ".fineclass-manifest.json").write_text(json.dumps({"command": command, "entries": top}))


@case("train exp/data/d.csv -o exp --overwrite", "DATA inside the --output-dir that --overwrite clears",
      "DATA exp/data/d.csv is inside --output-dir exp, which --overwrite would clear; move it out of exp, or choose "
      "another --output-dir", "move the data out, or write the run elsewhere")
def data_inside_the_output(ctx):
    fineclass_output("exp", "train", {"config.yaml": "seed: 42\n", "splits.json": "{}"})
    Path("exp/data").mkdir()
    write_toy("exp/data/d.csv")


@case("compare cmp/data/d.csv --models tfidf-logreg -o cmp --overwrite", "compare's DATA inside its --output-dir",
      "DATA cmp/data/d.csv is inside --output-dir cmp, which --overwrite would clear; move it out of cmp, or choose "
      "another --output-dir", "move the data out, or write the comparison elsewhere")
def compare_data_inside_the_output(ctx):
    fineclass_output("cmp", "compare", {"compare.json": "{}"})
    Path("cmp/data").mkdir()
    write_toy("cmp/data/d.csv")


@case("export model -o model --overwrite", "an export over the model it exports",
      "MODEL model is --output-dir model, which --overwrite would clear; move it out of model, or choose another "
      "--output-dir", "export into another directory")
def export_over_its_model(ctx):
    pass


@case("evaluate model d.csv --report-dir . --overwrite", "a --report-dir that holds the model and the data",
      "MODEL model is inside --report-dir ., which --overwrite would clear; move it out of ., or choose another "
      "--report-dir", "choose a new --report-dir")
def report_dir_holds_the_model(ctx):
    write_toy()


@case("export model -o out --overwrite", "--overwrite on an export directory that holds a file of yours",
      "output directory out holds files fineclass did not write (notes.txt); choose another --output-dir so they "
      "are not lost", "move your file out, or export elsewhere")
def export_dir_with_foreign_file(ctx):
    fineclass_output("out", "export", {"model.onnx": "onnx", "config.json": "{}"})
    Path("out/notes.txt").write_text("deployed on 2026-12-07")


@case("train d.csv -o sweep --overwrite", "--overwrite on the output of another command",
      "--output-dir sweep holds the output of `fineclass compare`, which `fineclass train` does not replace; choose "
      "another --output-dir", "choose another --output-dir")
def overwrite_another_command(ctx):
    write_toy()
    fineclass_output("sweep", "compare", {"compare.json": "{}", "compare.html": "<html></html>"})


@case("train d.csv -o mine --resume", "--resume in a directory that is not a run",
      "output directory mine holds files fineclass did not write (notes.txt); choose another --output-dir so they "
      "are not lost", "give the run's own --output-dir")
def resume_in_a_foreign_directory(ctx):
    write_toy()
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("mine")


@case("train d.csv -o run --resume-from checkpoint-9", "--resume-from a checkpoint whose save was cut off",
      "--resume-from checkpoint-9 is an incomplete checkpoint (trainer_state.json has no log_history); give another "
      "checkpoint-N, or --resume to take the newest complete one", "give a complete checkpoint, or --resume")
def resume_from_incomplete_checkpoint(ctx):
    write_toy()
    Path("checkpoint-9").mkdir()
    Path("checkpoint-9/trainer_state.json").write_text('{"global_step": 9, "epoch": 1.0}')


@case("distill runs/teacher --layers 1 -o runs --overwrite", "a distillation --output-dir that holds the teacher",
      "TEACHER runs/teacher is inside --output-dir runs, which --overwrite would clear; move it out of runs, or choose "
      "another --output-dir", "write the student elsewhere")
def distill_over_its_teacher(ctx):
    Path("runs/teacher/data").mkdir(parents=True)
    Path("runs/teacher/model").symlink_to(Path("model").resolve())
    for split in ("train", "validation"):
        Path(f"runs/teacher/data/{split}.jsonl").write_text('{"row": 0, "text": "hi", "labels": 0}\n')
    Path("runs/teacher/splits.json").write_text("{}")
