"""Property-based fuzzing of the settings: a YAML --config file, --trainer-arg KEY=VALUE lists and Python keywords.

Whatever the document or the list holds, the result is a TrainConfig that saves to config.yaml and reads back the
same, or one ConfigError line. Any other exception is a traceback a user would see. Random YAML documents (keys of
the settings and of their groups, nested, with values of every type), YAML text of its significant pieces (anchors,
aliases, tags, merges, flow and block collections), random bytes, and valid configs with edits.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import strategies as st

from fineclass.config import FIELD_NAMES, GROUPS, build_config, load_config_file, save_config
from fineclass.errors import ConfigError, FineclassError
from tests.fuzz_tiers import tiers

REQUIRED = {"data": "d.csv", "output_dir": "out"}
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join(['*' + below] * 10)}]\n" for below, name in zip("abcdefgh", "bcdefghi"))
"""Billion laughs: 10^9 x's once *i is expanded, in a few hundred bytes."""

# ---- strategies ---------------------------------------------------------------------------------------------

SETTING_KEYS = sorted(FIELD_NAMES) + [name.replace("_", "-") for name in sorted(FIELD_NAMES)]
keys = st.one_of(st.sampled_from(SETTING_KEYS + sorted(GROUPS) + ["push_to_hub", "hub_token", "hub_\nx", "", "unknown"]),
                 st.text(max_size=10), st.integers(), st.booleans())
TRICKY_STRINGS = ["2e-5", "1e400", "-1", "0", "nan", "fixed:0.5", "fixed:", "per-label", "global", "auto", "model", "none",
                  "0.7,0.2,0.1", "1,0,0", "a\nb", "true", "tab", "\\t", "bf16", "windows", "max", "balanced",
                  "lr_scheduler_type=cosine", "f1_macro", "utf-16", "text,label", "[/x]", "$_$", "x" * 300]
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts, st.sampled_from(TRICKY_STRINGS),
                    st.integers(min_value=-3, max_value=600), st.floats(min_value=-1, max_value=2))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=12)
settings_values = st.dictionaries(keys, values, max_size=8)
documents = st.one_of(settings_values, st.dictionaries(st.sampled_from(sorted(GROUPS)), settings_values, max_size=4),
                      values)

YAML_PIECES = ["epochs", "split", "trainer_args", "optimisation", "data", "model", "text_column", "learning_rate", ":", ": ",
               " ", "  ", "\n", "\n  ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "&b [*a, *a, *a]", "*b", "<<: *a",
               "!!python/object/apply:os.system ['true']", "!!binary aGk=", "!!set {a, b}", "!!timestamp 2001-12-14",
               "!!float", "!!int", "!!str", "!!map", "%YAML 1.1\n", "%TAG ! tag:x:\n", "---\n", "...\n", "? ", "|\n  ",
               ">\n  ", "'", '"', "\t", "#", "1e400", ".nan", ".inf", "-.inf", "0x10", "0o7", "~", "yes", "no",
               "2001-12-14", "12:30:00", "\x00", "\ufeff", "\x85", "\\", "=", "lr_scheduler_type=cosine", "0.7,0.2,0.1"]
yaml_texts = st.lists(st.sampled_from(YAML_PIECES), max_size=30).map("".join)

VALID = yaml.safe_dump({"model": "tiny", "optimisation": {"epochs": 2, "learning_rate": "2e-5"}, "split": [0.8, 0.1, 0.1],
                        "trainer_args": {"lr_scheduler_type": "cosine"}, "data": {"text_column": ["title", "body"]}})


@st.composite
def config_files(draw) -> bytes:
    """The bytes of a config file: a dumped document, YAML pieces, random bytes, or a valid config with edits."""
    kind = draw(st.sampled_from(["document", "pieces", "bytes", "edited"]))
    if kind == "document":
        return yaml.safe_dump(draw(documents), allow_unicode=draw(st.booleans())).encode()
    if kind == "pieces":
        return draw(yaml_texts).encode("utf-8", "surrogatepass")
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    edited = bytearray(VALID.encode())
    for at, piece in draw(st.lists(st.tuples(st.integers(0, len(edited)), st.sampled_from(YAML_PIECES)), min_size=1, max_size=4)):
        edited[at:at + draw(st.integers(0, 3))] = piece.encode("utf-8", "surrogatepass")
    return bytes(edited)


trainer_arg_items = st.lists(st.one_of(
    st.tuples(st.sampled_from(["lr_scheduler_type", "report_to", "logging_steps", "optim", "push_to_hub", "hub_token",
                               "learning_rate", "no_such_field", "", " ", "a=b", "lr_scheduler_kwargs"]) | texts,
              st.sampled_from(["=", "", " = "]), yaml_texts | texts).map("".join),
    texts, st.integers()), max_size=5)

# ---- the property -------------------------------------------------------------------------------------------


def settle(make_config) -> None:
    """A TrainConfig that saves to config.yaml and reads back the same, or one FineclassError line."""
    try:
        config = make_config()
    except FineclassError as err:
        assert "\n" not in str(err), str(err)
        return
    with tempfile.TemporaryDirectory(prefix="fuzz-") as directory:
        saved = Path(directory) / "config.yaml"
        save_config(config, saved)
        again = build_config(load_config_file(saved), {})
    assert again.to_record() == config.to_record()


def check_config_file(content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as directory:
        path = Path(directory) / "config.yaml"
        path.write_bytes(content)
        settle(lambda: build_config(load_config_file(path), REQUIRED))


def check_trainer_args(items: list, in_yaml: bool) -> None:
    """--trainer-arg as the CLI passes it (a list of KEY=VALUE strings), or the same list under trainer_args in YAML."""
    if in_yaml:
        check_config_file(yaml.safe_dump({"trainer_args": items}).encode())
    else:
        settle(lambda: build_config({}, {**REQUIRED, "trainer_args": items}))


def check_keywords(options: dict) -> None:
    """Python keywords of any type (fineclass.train(data, **options) builds its config so)."""
    settle(lambda: build_config({}, {**{str(k): v for k, v in options.items() if str(k) in FIELD_NAMES}, **REQUIRED}))


test_config_files, test_config_files_thoroughly = tiers(
    check_config_file, 150, content=config_files(),
    found=({"content": b"epochs: .inf\nbatch_size: .inf\n"}, {"content": b"split: 5\n"}, {"content": b"split: [.nan, 0, 0]\n"},
           {"content": b"\xff\xfe"}, {"content": b"[" * 10_000}, {"content": b"epochs: " + b"[" * 10_000 + b"]" * 10_000},
           {"content": b'"hub_\\nx": 1\n'}, {"content": (BOMB + "epochs: *i\n").encode()},
           {"content": (BOMB + "trainer_args: {lr_scheduler_kwargs: *i}\n").encode()},
           {"content": b"trainer_args: &a {lr_scheduler_kwargs: *a}\n"}, {"content": b"trainer_args: {run_name: 2026-12-07}\n"},
           {"content": b"!!float"}, {"content": b"epochs: !!bool x\n"}, {"content": b"seed: !!timestamp 2001-02-30\n"},
           {"content": b"batch_size: null\n"}))
test_trainer_arg_lists, test_trainer_arg_lists_thoroughly = tiers(
    check_trainer_args, 100, items=trainer_arg_items, in_yaml=st.booleans(),
    found=({"items": ["lr_scheduler_kwargs=" + "[" * 10_000], "in_yaml": False}, {"items": ["a\nb=1"], "in_yaml": False}))
test_python_keywords, test_python_keywords_thoroughly = tiers(
    check_keywords, 100, options=st.dictionaries(st.sampled_from(sorted(FIELD_NAMES)), values, max_size=6),
    found=({"options": {"trainer_args": False}},))


# ---- what the fuzz found, with their messages -------------------------------------------------------------------

TOO_DEEP = "nests values more than 100 levels deep; write the settings flat"


@pytest.mark.parametrize("content, message", [
    ("epochs: 2".encode("utf-16"), "is not UTF-8 text; save it as UTF-8"),
    (b"epochs: " + b"[" * 10_000 + b"]" * 10_000, "is not valid YAML: exceeded maximum nesting depth (line 1, column 1008)"),
    (b"trainer_args: {x: " + b"[" * 200 + b"]" * 200 + b"}\n", TOO_DEEP),
    (b"trainer_args: &a {lr_scheduler_kwargs: *a}\n", TOO_DEEP),
    ((BOMB + "epochs: *i\n").encode(), "expands to more than 100,000 values (YAML aliases repeat their anchor's value "
                                      "wherever they appear); write the settings out without aliases"),
    (b'"hub_\\nx": 1\n', "has unknown keys ['hub_\\nx']; known keys are "),
    (b"!!float", "is not valid YAML: a tagged value cannot be read as its tag says (IndexError: string index out of range)"),
    (b"epochs: !!bool x\n", "is not valid YAML: a tagged value cannot be read as its tag says (KeyError: 'x')"),
])
def test_hostile_config_files_are_one_line(content, message, tmp_path):
    (tmp_path / "c.yaml").write_bytes(content)
    with pytest.raises(ConfigError) as err:
        load_config_file(tmp_path / "c.yaml")
    assert str(err.value).startswith(f"config file {tmp_path / 'c.yaml'} {message}")


@pytest.mark.parametrize("values, message", [
    ({"split": 5}, "--split 5 must be three numbers like 0.7,0.2,0.1 (train,test,validation)"),
    ({"split": [float("nan"), 0, 0]}, "--split [nan, 0, 0] must be three non-negative fractions train,test,validation that sum "
                                      "to 1 (these sum to nan), with a non-zero train share, like 0.7,0.2,0.1"),
    ({"batch_size": float("inf")}, "--batch-size must be a whole number, got inf"),
    ({"learning_rate": 10**400}, "--learning-rate must be a number, got 100000000000000000...0000000000000000000"),
    ({"precision": "x" * 20_000_000}, "--precision must be one of auto, fp32, bf16, got '" + "x" * 37 + "..." + "x" * 38 + "'"),
    ({"trainer_args": {"run_name": __import__("datetime").date(2026, 12, 7)}},
     "--trainer-arg values must be text, numbers, true/false, lists or mappings, got {'run_name': datetime.date(2026, 12, 7)}"),
    ({"trainer_args": {"a\nb": 1}}, "--trainer-arg 'a\\nb': TrainingArguments has no field 'a\\nb'"),
    ({"trainer_args": ["x=" + "[" * 10_000]}, "--trainer-arg x: TrainingArguments has no field 'x'"),
])
def test_hostile_values_are_one_short_line(values, message):
    with pytest.raises(ConfigError) as err:
        build_config(values, REQUIRED)
    assert str(err.value) == message


def test_a_trainer_arg_that_yaml_reads_as_a_date_stays_text():
    assert build_config({}, {**REQUIRED, "trainer_args": ["run_name=2026-12-07"]}).trainer_args == {"run_name": "2026-12-07"}
