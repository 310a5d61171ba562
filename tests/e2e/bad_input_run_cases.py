"""Catalogue cases about options, models, predict files, run directories, disks and downloads."""

import errno
import json
import os
import shutil
from pathlib import Path

import pandas as pd

from tests.e2e.bad_input_registry import DOC_URL, case, write_toy

# ---- options and config files -------------------------------------------------------------------------


@case("train d.csv --split 0.5,0.2,0.1", "--split fractions that do not sum to 1",
      "--split '0.5,0.2,0.1' must be three non-negative fractions train,test,validation that sum to 1 "
      "(these sum to 0.8), with a non-zero train share, like 0.7,0.2,0.1", "make them sum to 1")
def split_sum(ctx):
    write_toy()


@case("train d.csv --epochs -1", "a negative --epochs", "--epochs must be > 0, got -1.0", "give a positive number")
def negative_epochs(ctx):
    write_toy()


@case("train d.csv --precision fp8", "an unknown --precision",
      "--precision must be one of auto, fp32, bf16, got 'fp8'", "use auto, fp32 or bf16")
def unknown_precision(ctx):
    write_toy()


@case("train d.csv --max-length 0", "--max-length 0", "--max-length must be >= 2, got 0", "give at least 2 (or leave it out)")
def max_length_zero(ctx):
    write_toy()


@case("train d.csv --batch-size 0 --learning-rate -1", "several bad options at once",
      "--learning-rate must be > 0, got -1.0; --batch-size must be >= 1, got 0", "fix each option listed")
def several_bad_options(ctx):
    write_toy()


@case("train d.csv --metric f1", "an unknown --metric",
      "--metric must be one of accuracy, exact_match, f1_macro, f1_micro, f1_samples, f1_weighted, loss, got 'f1'",
      "use one of the metrics listed")
def unknown_metric(ctx):
    write_toy()


@case("train d.csv --metric exact_match", "a --metric that the task does not compute (exact_match on multi-class data)",
      "--metric exact_match is not computed for multi-class data; use one of accuracy, f1_macro, f1_micro, f1_weighted, loss",
      "use one of the metrics listed")
def metric_for_other_task(ctx):
    write_toy()


@case("train d.csv --min-steps -5 --pooling first", "a negative --min-steps and an unknown --pooling",
      "--min-steps must be >= 0 (0 keeps the epoch schedule), got -5; --pooling must be auto, cls or mean, got 'first'",
      "give 0 or more steps, and auto, cls or mean")
def few_label_options(ctx):
    write_toy()


@case("learning-curve d.csv --sizes 48,many", "a --sizes entry that is not a number",
      "--sizes 'many' must be a whole number of training texts >= 2 or 'all', like --sizes 48,96,192,384,all",
      "list whole numbers and 'all', comma-separated")
def curve_sizes(ctx):
    write_toy()


@case("learning-curve d.csv --sizes 24 --seeds 0", "--seeds 0", "--seeds must be >= 1, got 0", "give 1 or more seeds")
def curve_seeds(ctx):
    write_toy()


@case("train d.csv --save-steps 0", "--save-steps 0", "--save-steps must be >= 1, got 0", "give a positive step count")
def save_steps_zero(ctx):
    write_toy()


@case("train d.csv --config run.yaml", "a YAML config with a value of the wrong type",
      "--batch-size must be a whole number, got 'eight'", "write a number")
def config_wrong_type(ctx):
    write_toy()
    Path("run.yaml").write_text("batch_size: eight\n")


@case("train d.csv --config run.yaml", "a YAML config with a misspelt key",
      "config file run.yaml has unknown keys ['epocs']; known keys are [", "fix the key (the message lists them all)",
      prefix=True)
def config_unknown_key(ctx):
    write_toy()
    Path("run.yaml").write_text("epocs: 3\n")


# ---- models -------------------------------------------------------------------------------------------


@case("train d.csv --model broken/", "a model directory whose config.json is not JSON",
      "could not load model broken: its config.json is not valid JSON (Expecting property name enclosed in double "
      "quotes: line 1 column 2 (char 1)); restore it from the model's source", "restore config.json")
def model_config_broken(ctx):
    write_toy()
    shutil.copytree("tiny", "broken")
    Path("broken/config.json").write_text("{not json")


@case("train d.csv --model empty/", "a model directory without config.json",
      "model directory empty has no config.json; point --model at a Hugging Face model directory",
      "point --model at a model directory")
def model_without_config(ctx):
    write_toy()
    Path("empty").mkdir()


@case("train d.csv --model notok/", "a model directory without tokenizer files",
      "model directory notok has no tokenizer (no tokenizer.json, vocab.txt, vocab.json, ...); copy its base model's "
      "tokenizer there, for example: AutoTokenizer.from_pretrained(BASE).save_pretrained('notok')",
      "copy the base model's tokenizer files there")
def model_without_tokenizer(ctx):
    write_toy()
    Path("notok").mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(Path("tiny") / name, Path("notok") / name)


@case("predict mismatched/ hello", "a model whose config.json names 3 labels but whose classifier has 2",
      "mismatched: config.json names 3 labels (id2label) but the classifier in model.safetensors has 2 outputs; "
      "make id2label and label2id in config.json list the 2 labels the model was trained on",
      "fix id2label and label2id")
def label_count_mismatch(ctx):
    shutil.copytree("model", "mismatched")
    config = json.loads(Path("mismatched/config.json").read_text())
    config["id2label"], config["label2id"] = {"0": "a", "1": "b", "2": "c"}, {"a": 0, "b": 1, "c": 2}
    Path("mismatched/config.json").write_text(json.dumps(config))
    from safetensors.torch import load_file, save_file

    weights = load_file("mismatched/model.safetensors")
    weights["classifier.weight"], weights["classifier.bias"] = weights["classifier.weight"][:2], weights["classifier.bias"][:2]
    save_file(weights, "mismatched/model.safetensors", metadata={"format": "pt"})


@case("predict nowhere/ hello", "predict on a directory that holds no model",
      "nowhere is neither a fineclass run directory nor a model directory (no config.json)", "give a run or model directory")
def predict_not_a_model(ctx):
    Path("nowhere").mkdir()


@case("predict model/ hello --device gpu", "an unknown --device",
      "--device must be auto, cpu, cuda or cuda:N, got 'gpu'", "use auto, cpu, cuda or cuda:N")
def unknown_device(ctx):
    pass


@case("predict model/ hello --min-confidence 1.5", "a --min-confidence over 1",
      "--min-confidence must be from 0 to 1, got 1.5; for example 0.8", "give a confidence from 0 to 1")
def min_confidence_over_one(ctx):
    pass


@case("train d.csv --calibration foo", "an unknown --calibration for train",
      "--calibration must be none, temperature, platt or auto, got 'foo'", "use one of the methods listed")
def train_unknown_calibration(ctx):
    write_toy()


@case("train d.csv --calibration platt", "Platt scaling on multi-class data",
      "--calibration platt is for multi-label models; use temperature (or auto) for multi-class", "use temperature or auto")
def platt_on_multiclass(ctx):
    write_toy()


@case("calibrate model/ --calibration foo", "an unknown --calibration method",
      "--calibration 'foo' is not a method; use one of none, temperature, platt, auto", "use one of the methods listed")
def unknown_calibration(ctx):
    pass


@case("calibrate model/", "calibrate a model directory outside any run (no saved validation split)",
      "model is not inside a fineclass run directory; calibrate needs the run's saved validation split "
      "(data/validation.jsonl)", "give the run directory that trained the model")
def calibrate_outside_a_run(ctx):
    pass


@case("serve model/ --device cuda", "--device cuda on a machine where torch sees no GPU",
      "--device cuda: torch sees no CUDA GPU here; use --device cpu (or auto)", "use --device cpu or auto")
def device_without_gpu(ctx):
    import torch

    ctx.monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # so the case holds on GPU machines too


@case("evaluate model/ d.csv", "evaluate on data with a label the model never learned",
      "test row 1: label 'worry' was never seen in training; the model knows joy, sadness, anger",
      "map the label to one the model knows, or retrain")
def evaluate_unknown_label(ctx):
    pd.DataFrame({"text": ["happy", "sad"], "label": ["joy", "worry"]}).to_csv("d.csv", index=False)


# ---- predict files ------------------------------------------------------------------------------------


@case("predict model/", "predict with no texts and no --input", "give texts to classify, or --input FILE",
      "give texts, or --input FILE --output FILE")
def predict_nothing(ctx):
    pass


@case("predict model/ --input in.csv --output out.csv", "an empty (0-byte) --input file",
      "in.csv is empty (0 bytes); give a CSV file with a header row and rows", "give a file with texts")
def predict_empty_input(ctx):
    Path("in.csv").write_bytes(b"")


@case("predict model/ --input in.csv --output out.csv", "an --input file with no text column",
      "in.csv has no text column (text, sentence, content, ...); pass --text-column NAME (its columns are ['n', 'score'])",
      "pass --text-column")
def predict_no_text_column(ctx):
    pd.DataFrame({"n": [1, 2], "score": [0.5, 0.25]}).to_csv("in.csv", index=False)


@case("predict model/ --input in.csv --output out.xlsx", "--output with an unsupported extension",
      "--output out.xlsx must end in .csv, .tsv or .jsonl (got '.xlsx')", "use .csv, .tsv or .jsonl")
def predict_output_extension(ctx):
    write_toy("in.csv", 5)


@case("predict model/ --input in.csv --output in.csv --overwrite", "--output naming the --input file",
      "--output in.csv is the --input file; choose another --output so the input is kept", "choose another --output")
def predict_output_is_input(ctx):
    write_toy("in.csv", 5)


@case("predict model/ --input in.csv --output out.csv", "an --output file that already exists",
      "out.csv already exists; pass --overwrite to replace it, or choose another --output", "pass --overwrite or rename")
def predict_output_exists(ctx):
    write_toy("in.csv", 5)
    Path("out.csv").write_text("earlier predictions\n")


@case("predict model/ --input in.csv --output out.csv", "an --input with an empty text at row 3",
      "in.csv row 3: the text is empty; nothing was written to out.csv; fill in or drop that row and run again",
      "fill in or drop that row")
def predict_empty_text(ctx):
    write_toy("in.csv", 8, text=["a", "b", "c", "", "e", "f", "g", "h"])


# ---- runs, checkpoints, disks and downloads -----------------------------------------------------------


@case("train d.csv -o run", "an output directory that holds an earlier run",
      "output directory run is not empty; pass --overwrite to replace it, or choose another --output-dir",
      "pass --overwrite, or choose another --output-dir")
def output_not_empty(ctx):
    write_toy()
    Path("run").mkdir()
    Path("run/metrics.json").write_text("{}")


@case("train d.csv -o mine --overwrite", "--overwrite on a directory with files fineclass did not write",
      "output directory mine holds files fineclass did not write (notes.txt); choose another --output-dir so they are not lost",
      "choose another --output-dir")
def overwrite_foreign_files(ctx):
    write_toy()
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("mine")


@case("train d.csv -o notes.txt/run", "an --output-dir inside a file",
      "cannot write to output directory notes.txt/run: Not a directory", "choose a directory path")
def output_inside_a_file(ctx):
    write_toy()
    Path("notes.txt").write_text("mine")


@case("train d.csv -o locked/run", "an --output-dir in a read-only directory",
      "cannot write to output directory locked/run: Permission denied", "choose a directory you can write to")
def output_read_only(ctx):
    write_toy()
    Path("locked").mkdir()
    if os.geteuid() != 0:
        Path("locked").chmod(0o500)
        ctx.extra["restore"] = lambda: Path("locked").chmod(0o700)
        return
    import tempfile  # root writes anyway: refuse the write probe as a read-only directory would

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    ctx.monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)


@case("train d.csv -o run --resume-from somewhere", "--resume-from a directory that is not a checkpoint",
      "--resume-from somewhere is not a Trainer checkpoint (no trainer_state.json)", "give a checkpoint-N directory")
def resume_from_not_a_checkpoint(ctx):
    write_toy()
    Path("somewhere").mkdir()


@case("train d.csv -o run", "a full disk while training saves a checkpoint",
      "no space left on the device that holds run; the run there is incomplete: free some space or choose another "
      "--output-dir, then run again with --overwrite (or --resume if a checkpoint was saved)",
      "free space, then --resume or --overwrite", creates=("run/",))
def disk_full_in_training(ctx):
    write_toy()
    import torch

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    ctx.monkeypatch.setattr(torch, "save", full_disk)


@case("predict model/ --input in.csv --output out.csv", "a full disk while writing predictions",
      "could not write out.csv: No space left on device; nothing was written to out.csv; "
      "free some disk space (or write elsewhere) and run again", "free space and run again")
def disk_full_in_predict(ctx):
    write_toy("in.csv", 5)
    import fineclass.inference.files as files

    class FullDisk:
        def __init__(self, target):
            self.handle = open(target, "wb", buffering=0)

        def write(self, data):
            self.handle.write(bytes(data[:10]))  # a few bytes fit, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    ctx.monkeypatch.setattr(files, "open_output", FullDisk)


@case(f"train {DOC_URL}/data.csv", "a download cut off before its Content-Length",
      f"download of {DOC_URL}/data.csv was interrupted (712 of 2136 bytes); run the command again", "run it again")
def interrupted_download(ctx):
    pass


@case(f"train {DOC_URL}/missing.csv", "a URL that answers 404",
      f"could not download {DOC_URL}/missing.csv: Not Found; check the address and your network", "check the address")
def download_not_found(ctx):
    pass


# ---- long documents and distillation ------------------------------------------------------------------


@case("train d.csv --long-texts sliding", "an unknown --long-texts mode",
      "--long-texts must be one of auto, truncate, head-tail, windows, got 'sliding'", "use one of the modes listed")
def unknown_long_texts(ctx):
    write_toy()


@case("train d.csv --attention-dropout 2", "an --attention-dropout that is not a probability",
      "--attention-dropout must be auto, model or a number in [0, 1), got '2'", "give auto, model or a number like 0.1")
def attention_dropout_range(ctx):
    write_toy()


@case("predict model hello --window-pooling median", "an unknown --window-pooling",
      "--window-pooling must be mean or max, got 'median'", "use mean or max")
def unknown_window_pooling(ctx):
    pass


@case("distill model --layers 1", "a distillation teacher that is a model directory, not a run",
      "model is not a fineclass run directory with its saved split (data/train.jsonl, data/validation.jsonl); distill "
      "trains the student on the teacher's own split: give the run directory that `fineclass train` wrote",
      "give the teacher's run directory")
def distill_teacher_not_a_run(ctx):
    pass


@case("distill model --layers 1 --student tiny", "both a --layers student and a --student model",
      "give the student as --layers K (the teacher's first K layers) or --student MODEL, not both", "give one of them")
def distill_two_students(ctx):
    pass
