"""Catalogue cases added for safety: secrets, and damaged model directories (one line, never a traceback)."""

import shutil
from pathlib import Path

from tests.e2e.bad_input_registry import case, write_toy  # noqa: F401

PUBLISHING = ("train does not publish models (push_to_hub and the hub_* settings are refused, so no hub token is saved "
              "with a run); publishing gets its own command")
RESTORE = "restore it from the model's source"
RESTORE_TOKENIZER = "copy the tokenizer files of its base model there"


# ---- secrets ------------------------------------------------------------------------------------------


@case("train d.csv --trainer-arg hub_token=hf_abc123", "a --trainer-arg that would publish the model (push_to_hub, "
      "hub_token or any hub_* setting)", f"--trainer-arg hub_token: {PUBLISHING}",
      "remove it: a run never publishes, and its token would be saved in config.yaml")
def trainer_arg_hub_token(ctx):
    write_toy()


@case("train d.csv --config shared.yaml", "a shared YAML config whose trainer_args turn on push_to_hub",
      f"--trainer-arg push_to_hub: {PUBLISHING}", "remove push_to_hub (and any hub_* key) from the config")
def yaml_push_to_hub(ctx):
    write_toy()
    Path("shared.yaml").write_text("epochs: 1\ntrainer_args:\n  push_to_hub: true\n  report_to: none\n")


@case("train d.csv --config shared.yaml", "a YAML config with hub_token as a key of its own",
      f"config file shared.yaml sets hub_token: {PUBLISHING}", "remove the key")
def yaml_hub_token(ctx):
    write_toy()
    Path("shared.yaml").write_text("epochs: 1\nhub_token: hf_abc123\n")


# ---- damaged model directories --------------------------------------------------------------------------
# Each directory is a copy of the catalogue's classifier ("model") or of the tiny base model ("tiny"), with one file
# damaged. tests/unit/inference/test_damaged_model_dirs.py loads each through the Python API too.


def damaged_copy(source: str, name: str, file: str, content: bytes | None = None, keep: int | None = None) -> None:
    """Copy `source` to `name`, then write `content` into `file`, or keep only its first `keep` bytes."""
    shutil.copytree(source, name)
    path = Path(name) / file
    path.write_bytes(content if content is not None else path.read_bytes()[:keep])


@case("predict listcfg/ hello", "a model directory whose config.json holds a list, not an object",
      f"could not load model listcfg: its config.json holds a JSON array, not an object; {RESTORE}",
      "restore config.json from where the model came from")
def model_config_is_a_list(ctx):
    damaged_copy("model", "listcfg", "config.json", b'[{"model_type": "bert"}]')


@case("predict cut/ hello", "a model directory whose model.safetensors is truncated (an interrupted copy)",
      "could not load model cut: its model.safetensors is damaged or incomplete (Error while deserializing header: "
      "incomplete metadata, file not fully covered); copy it again from the model's source",
      "copy the weights again")
def model_weights_truncated(ctx):
    size = (Path("model") / "model.safetensors").stat().st_size
    damaged_copy("model", "cut", "model.safetensors", keep=size - 100)


@case("export cut/ --no-check", "export of a model directory whose model.safetensors is cut inside its header",
      "could not load model cut: its model.safetensors is damaged or incomplete (Error while deserializing header: "
      "invalid header length); copy it again from the model's source", "copy the weights again")
def export_weights_truncated(ctx):
    damaged_copy("model", "cut", "model.safetensors", keep=64)


@case("serve badthr/", "serve a model whose thresholds.json is not valid JSON",
      "badthr/thresholds.json is not a valid thresholds record: it is not valid JSON (Expecting ':' delimiter: line 1 "
      "column 23 (char 22)); delete it to use 0.5 for every label, or run `fineclass tune-thresholds` on the run to "
      "write it again", "delete thresholds.json, or re-tune the thresholds")
def serve_thresholds_corrupt(ctx):
    damaged_copy("model", "badthr", "thresholds.json", b'{"thresholds": {"joy" 0.4}}')


@case("predict badthr/ hello", "a thresholds.json with a threshold that is not a number from 0 to 1",
      "badthr/thresholds.json is not a valid thresholds record: the threshold of 'joy' is 'high', not a number from 0 "
      "to 1; delete it to use 0.5 for every label, or run `fineclass tune-thresholds` on the run to write it again",
      "delete thresholds.json, or re-tune the thresholds")
def thresholds_value_not_a_number(ctx):
    damaged_copy("model", "badthr", "thresholds.json", b'{"thresholds": {"joy": "high"}}')


@case("predict badlong/ hello", "a long_texts.json that holds a list",
      "badlong/long_texts.json is not a valid long-text record: it holds a JSON array, not an object; delete it to "
      "truncate long texts, or train the model again", "delete long_texts.json")
def long_texts_is_a_list(ctx):
    damaged_copy("model", "badlong", "long_texts.json", b'["windows"]')


@case("predict badtok/ hello", "a model directory whose tokenizer_config.json is cut off",
      f"could not load model badtok: its tokenizer_config.json is not valid JSON (Unterminated string starting at: "
      f"line 2 column 3 (char 4)); {RESTORE_TOKENIZER}", "copy the base model's tokenizer files there")
def tokenizer_config_cut(ctx):
    damaged_copy("model", "badtok", "tokenizer_config.json", keep=5)


def special_token_past_the_vocabulary(source: str, name: str) -> None:
    """A copy whose tokenizer_config.json names a [SEP] the vocabulary lacks, so the tokenizer adds it at id 35."""
    shutil.copytree(source, name)
    path = Path(name) / "tokenizer_config.json"
    path.write_text(path.read_text().replace('"[SEP]"', '"5SEP]"'))


@case("predict badsep/ hello", "a model directory whose tokenizer gives a special token an id past the embeddings",
      "the tokenizer of badsep gives its special token '5SEP]' the id 35, past the model's 35 embeddings (vocab_size "
      "in config.json); copy the tokenizer files of its base model there, or resize the model's embeddings to the "
      "tokenizer", "copy the base model's tokenizer files there")
def predict_special_token_past_embeddings(ctx):
    special_token_past_the_vocabulary("model", "badsep")


@case("train d.csv --model badsep/", "a base model (--model) whose tokenizer gives a special token an id past the "
      "embeddings", "the tokenizer of 'badsep' gives its special token '5SEP]' the id 35, past the model's 35 embeddings "
      "(vocab_size in config.json); copy the tokenizer files of its base model there, or resize the model's embeddings "
      "to the tokenizer", "copy the base model's tokenizer files there")
def train_special_token_past_embeddings(ctx):
    write_toy()
    special_token_past_the_vocabulary("tiny", "badsep")


@case("train d.csv --model badtok/", "a base model (--model) whose tokenizer.json holds null",
      f"could not load model badtok: its tokenizer.json holds JSON null, not an object; {RESTORE_TOKENIZER}",
      "copy the base model's tokenizer files there")
def train_tokenizer_null(ctx):
    write_toy()
    damaged_copy("tiny", "badtok", "tokenizer.json", b"null")


@case("train d.csv --model cut/", "a base model (--model) whose model.safetensors is truncated",
      "could not load model cut: its model.safetensors is damaged or incomplete (Error while deserializing header: "
      "incomplete metadata, file not fully covered); copy it again from the model's source", "copy the weights again")
def train_weights_truncated(ctx):
    write_toy()
    size = (Path("tiny") / "model.safetensors").stat().st_size
    damaged_copy("tiny", "cut", "model.safetensors", keep=size // 2)


@case("distill teacher/ --layers 1 -o student", "a teacher run whose model's config.json is a string",
      f"could not load model teacher/model: its config.json holds a JSON string, not an object; {RESTORE}",
      "restore config.json in the teacher's model/")
def distill_teacher_config_string(ctx):
    Path("teacher/data").mkdir(parents=True)
    for split in ("train", "validation"):
        Path(f"teacher/data/{split}.jsonl").write_text('{"row": 0, "text": "happy", "labels": ["joy"]}\n')
    Path("teacher/splits.json").write_text("{}")
    damaged_copy("model", "teacher/model", "config.json", b'"bert"')
