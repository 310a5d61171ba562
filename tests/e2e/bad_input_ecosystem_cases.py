"""Catalogue cases about the ecosystem: push to the Hub, ids carried through predict, batch prediction on Ray.

None of them reaches the network or starts Ray: each is refused first.
"""

import shutil
from pathlib import Path

from tests.e2e.bad_input_registry import case, write_toy

# ---- push -----------------------------------------------------------------------------------------------


def unfinished_run() -> None:
    Path("run").mkdir()
    Path("run/splits.json").write_text("{}")


@case("push run --repo-id me/emotion", "a run directory without model/ (training did not finish)",
      "run has no model/ directory: the run did not finish training; train it again, or push a model directory",
      "train it again, or push a model directory")
def push_no_model(ctx):
    unfinished_run()


@case("push run --repo-id me/emotion", "a model directory without a model card (README.md)",
      "run/model has no model card (README.md); write one there (fineclass train writes one) and push again",
      "write a README.md model card there")
def push_no_card(ctx):
    unfinished_run()
    shutil.copytree("model", "run/model")


@case("push model --repo-id me/emotion/v2 --dry-run", "a --repo-id with two slashes",
      "--repo-id 'me/emotion/v2' is not a Hub repository name: Repo id must be in the form 'repo_name' or "
      "'namespace/repo_name': 'me/emotion/v2'; use NAME or OWNER/NAME, like me/emotion-minilm",
      "use NAME or OWNER/NAME (a branch goes in --revision)")
def push_bad_repo_id(ctx):
    pass  # the name is checked first, so the model's missing card is not reached


@case("push run --repo-id me/emotion", "no Hugging Face token (no HF_TOKEN, no `hf auth login`)",
      "no Hugging Face token found; set HF_TOKEN or run `hf auth login`, then push again",
      "set HF_TOKEN or run `hf auth login`")
def push_no_token(ctx):
    from huggingface_hub import constants

    unfinished_run()
    shutil.copytree("model", "run/model")
    Path("run/model/README.md").write_text("# a model\n")
    ctx.monkeypatch.delenv("HF_TOKEN", raising=False)
    ctx.monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    ctx.monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(Path("no-token").absolute()))


# ---- ids and kept columns --------------------------------------------------------------------------------


@case("predict model/ --input in.csv --output out.csv --keep-columns source", "--keep-columns naming no column",
      "--keep-columns 'source' is not a column of in.csv; its columns are ['text', 'label', 'label_name']",
      "name columns the file has (any case)")
def keep_unknown_column(ctx):
    write_toy("in.csv", 5)


@case("predict model/ --input in.csv --output out.csv --keep-columns label", "a kept column named like a prediction column",
      "--keep-columns 'label' has the name of a column the predictions fill (text, label, score, top_k); rename it "
      "in the input, or leave it out", "rename that column in the input")
def keep_prediction_column(ctx):
    write_toy("in.csv", 5)


# ---- batch prediction on Ray -------------------------------------------------------------------------------


@case("predict model/ --input docs/ --output out/ --engine ray", "--engine ray on a directory with no data files",
      "--input docs names no Parquet, CSV, TSV or JSONL files (it holds notes.md); give a directory or a glob of such "
      "files, like 'data/*.parquet'", "point --input at the data files")
def ray_no_files(ctx):
    Path("docs").mkdir()
    Path("docs/notes.md").write_text("notes\n")


@case("predict model/ --input in/ --output out/ --engine ray", "--engine ray into a directory fineclass did not write",
      "output directory out holds files fineclass did not write (mine.csv); choose another --output so they are not lost",
      "choose another --output")
def ray_foreign_output(ctx):
    Path("in").mkdir()
    write_toy("in/a.csv", 5)
    Path("out").mkdir()
    Path("out/mine.csv").write_text("mine\n")


@case("predict model/ --input in/ --output in/ --engine ray", "--engine ray with --output the --input directory",
      "--input in/a.csv is inside --output in, where outputs are written; choose another --output",
      "choose another --output")
def ray_output_is_input(ctx):
    Path("in").mkdir()
    write_toy("in/a.csv", 5)


@case("predict model/ hello --engine ray", "--engine ray with texts on the command line",
      "--engine ray predicts files: give --input DIR_OR_GLOB --output DIR, and no texts", "give --input and --output")
def ray_texts(ctx):
    pass


@case("predict model/ hello --engine spark", "an unknown --engine", "--engine must be local or ray, got 'spark'",
      "use local or ray")
def unknown_engine(ctx):
    pass
