"""Hostile inputs beyond the bad-input catalogue's, through every entry point: train, evaluate, predict, explore,
export, serve and the Python API.

Each command gives exit 0, or exit 2 with one `error:` line as its last (each input runs through the commands that
read it; train only where reading is not enough, as a run costs seconds); never a traceback; within a deadline (a FIFO
must not hang it). The server answers a 2xx or a one-line 4xx, never a 5xx. And no file outside the command's output
directories (`out*`) changes: every file's hash and mtime, links and FIFOs by what they are, are the same after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import fineclass
from fineclass.errors import FineclassError
from tests.conftest import make_texts, run_cli
from tests.e2e.classifier import save_untrained_classifier

TRAIN = ["--model", "tiny", "--quiet", "--no-baseline", "--no-report", "--max-steps", "1"]
DEEP = "[" * 10_000 + "]" * 10_000
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join(['*' + below] * 10)}]\n" for below, name in zip("abcdefgh", "bcdefghi"))
"""Billion laughs: 10^9 values once *i is expanded."""


@dataclass
class Hostile:
    name: str
    setup: Callable[[], None]
    """Writes the input into the working directory (which also holds `tiny`, `model` and `toy.csv`)."""
    commands: list[list[str]]
    api: Callable[[], object] | None = None
    """The Python API's counterpart: it returns, or raises one FineclassError line."""


def data_commands(path: str) -> list[list[str]]:
    return [["train", path, "-o", "out-train", *TRAIN], ["explore", path, "-o", "out-explore", "--model", "tiny"],
            ["evaluate", "model", path, "--report-dir", "out-eval"], ["predict", "model", "--input", path, "--output", "out.jsonl"]]


def model_commands(path: str) -> list[list[str]]:
    return [["predict", path, "i feel happy"], ["evaluate", path, "toy.csv", "--report-dir", "out-eval"],
            ["export", path, "-o", "out-export", "--no-check"], ["inspect", path]]


def train_api(path: str, output_dir: str | None = "out-api", **options) -> Callable[[], object]:
    return lambda: fineclass.train(path, output_dir, model="tiny", max_steps=1, baseline=False, report=False,
                                   progress=None, **options)


def serve_api(path: str) -> Callable[[], object]:
    """What `serve` does with a model directory: load it, and answer one request through the app."""
    def load_and_answer():
        from fastapi.testclient import TestClient

        from fineclass.inference.predictor import Predictor
        from fineclass.serving.app import create_app

        with TestClient(create_app(Predictor.from_dir(path), model_dir=path)) as client:
            response = client.post("/predict", json={"texts": ["i feel happy"]})
        assert response.status_code == 200, response.text
    return load_and_answer


# ---- the inputs ------------------------------------------------------------------------------------------------

def write_lines(name: str, text: str, encoding: str = "utf-8") -> None:
    Path(name).write_bytes(text.encode(encoding))


def nul_bytes():
    write_lines("d.csv", make_texts(60).to_csv(index=False).replace("happy", "hap\x00py").replace("sad", "\x00sad"))


def one_column():
    write_lines("d.csv", "text\n" + "\n".join(make_texts(60)["text"]) + "\n")


def only_quotes():
    write_lines("d.csv", '"' * 5_000)


def utf16_with_bom():
    make_texts(60).to_csv("d.csv", index=False, encoding="utf-16")


def symlink_loop():
    os.symlink("d.csv", "d.csv")


def directory_linking_to_itself():
    os.mkdir("d.csv")
    make_texts(60).to_csv("d.csv/train.csv", index=False)
    os.symlink("..", "d.csv/again")


def fifo():
    os.mkfifo("d.csv")


def fifo_among_split_files():
    os.mkdir("d.csv")
    make_texts(60).to_csv("d.csv/train.csv", index=False)
    os.mkfifo("d.csv/test.csv")


def ten_thousand_columns():
    header = ",".join(["text", "label", *(f"c{i}" for i in range(10_000))])
    rows = [f"{r.text},{r.label_name}," + ",".join("0" * 10_000) for r in make_texts(30).itertuples()]
    write_lines("d.csv", header + "\n" + "\n".join(rows) + "\n")


def every_row_its_own_label():
    make_texts(60).assign(label=[f"label{i}" for i in range(60)]).drop(columns="label_name").to_csv("d.csv", index=False)


def terminal_escapes_in_labels():
    frame = make_texts(60).drop(columns="label")
    frame["label_name"] = frame["label_name"].map({"joy": "\x1b[31mjoy\x1b[0m", "sadness": "[bold]sad[/bold]",
                                                   "anger": "\x1b]0;title\x07anger"})
    frame.to_csv("d.csv", index=False)


DATA = [
    Hostile("a CSV with NUL bytes in its texts", nul_bytes, data_commands("d.csv"), train_api("d.csv")),
    Hostile("a CSV of one column", one_column, data_commands("d.csv"), train_api("d.csv")),
    Hostile("a file of only double quotes", only_quotes, data_commands("d.csv"), train_api("d.csv")),
    Hostile("a UTF-16 CSV with a BOM", utf16_with_bom, data_commands("d.csv")[1:]),
    Hostile("DATA a symlink to itself", symlink_loop, data_commands("d.csv"), train_api("d.csv")),
    Hostile("a data directory with a link to its parent", directory_linking_to_itself, data_commands("d.csv")[1:2]),
    Hostile("DATA a FIFO", fifo, data_commands("d.csv") + [["train", "toy.csv", "--label-names", "d.csv", *TRAIN]],
            train_api("d.csv")),
    Hostile("a split directory whose test file is a FIFO", fifo_among_split_files, data_commands("d.csv")[:2]),
    Hostile("a CSV of 10,000 columns", ten_thousand_columns, data_commands("d.csv")[1:2]),
    Hostile("every row its own label", every_row_its_own_label, data_commands("d.csv")[:1]),
    Hostile("labels with terminal escapes and rich markup", terminal_escapes_in_labels, data_commands("d.csv")[1:2]),
    Hostile("a path with a newline", lambda: None, [["train", "no\nsuch.csv", *TRAIN], ["predict", "model", "--input", "a\nb"]],
            train_api("no\nsuch.csv")),
]


def yaml_bomb():
    write_lines("c.yaml", BOMB + "trainer_args: {lr_scheduler_kwargs: *i}\n")


def output_dir_of_the_data():
    os.mkdir("exp")
    shutil.copy("toy.csv", "exp/toy.csv")
    write_lines("c.yaml", "output_dir: exp\noverwrite: true\n")


def config_nested_deep():
    write_lines("c.yaml", "trainer_args: " + DEEP + "\n")


def config_with_a_20_mb_line():
    write_lines("c.yaml", "text_column: " + "x" * 20_000_000 + "\n")


def config_fifo():
    os.mkfifo("c.yaml")


def config_with_python_tags():
    write_lines("c.yaml", "model: !!python/object/apply:os.system ['touch pwned']\n")


CONFIGS = [
    Hostile(name, setup, [["train", "toy.csv", "--config", "c.yaml", "-o", "out-train", *TRAIN]],
            train_api("toy.csv", config="c.yaml"))
    for name, setup in [("a YAML bomb", yaml_bomb), ("a config nested 10,000 deep", config_nested_deep),
                        ("a config with a 20 MB line", config_with_a_20_mb_line), ("a config that is a FIFO", config_fifo),
                        ("a config with Python tags", config_with_python_tags)]
] + [Hostile("a config whose output_dir holds the data", output_dir_of_the_data,
             [["train", "exp/toy.csv", "--config", "c.yaml", *TRAIN]], train_api("exp/toy.csv", None, config="c.yaml"))]


def model_copy() -> Path:
    return Path(shutil.copytree("model", "m", symlinks=False))


def edit_config(**changes) -> None:
    path = model_copy() / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def ten_thousand_labels():
    edit_config(id2label={str(i): f"l{i}" for i in range(10_000)}, label2id={f"l{i}": i for i in range(10_000)})


def garbage_tokenizer():
    (model_copy() / "tokenizer.json").write_bytes(bytes((i * 131 + 7) % 256 for i in range(5_000_000)))


def weights_fifo():
    (model_copy() / "model.safetensors").unlink()
    os.mkfifo("m/model.safetensors")


def model_symlink_loop():
    os.symlink("m", "m")


def remote_code():
    """auto_map names a module of the directory that, imported, writes a file: nothing may import it."""
    edit_config(auto_map={"AutoConfig": "evil.Config", "AutoModelForSequenceClassification": "evil.Model"})
    Path("m/evil.py").write_text("open('pwned', 'w').write('x')\n")


def another_architecture():
    edit_config(model_type="gpt2", architectures=["GPT2ForSequenceClassification"])


def damaged_run():
    """A run whose saved test split is nested 10,000 deep and whose metrics.json is cut off."""
    os.mkdir("m")
    shutil.copytree("model", "m/model")
    write_lines("m/splits.json", "{}")
    os.mkdir("m/data")
    write_lines("m/data/test.jsonl", json.dumps({"row": 0, "text": "happy", "labels": ["joy"]}) + "\n" + DEEP + "\n")
    write_lines("m/metrics.json", '{"task": {"multi_label": fal')


MODELS = [
    Hostile(name, setup, model_commands("m") + ([["evaluate", "m", "--report-dir", "out-eval"]] if setup is damaged_run else []),
            serve_api("m"))
    for name, setup in [("id2label of 10,000 labels", ten_thousand_labels), ("a tokenizer.json of 5 MB garbage", garbage_tokenizer),
                        ("model.safetensors a FIFO", weights_fifo), ("a model directory linking to itself", model_symlink_loop),
                        ("config.json asking for remote code", remote_code), ("config.json of another architecture", another_architecture),
                        ("a run with a damaged split and metrics.json", damaged_run)]
]


# ---- running them ----------------------------------------------------------------------------------------------

def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root, links not followed: a file by hash and mtime, a link by target, a FIFO by kind."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in files + dirs:
            path = Path(directory, name)
            mode = path.lstat().st_mode
            key = str(path.relative_to(root))
            if stat.S_ISLNK(mode):
                found[key] = f"link:{os.readlink(path)}"
            elif stat.S_ISREG(mode):
                found[key] = f"{hashlib.sha256(path.read_bytes()).hexdigest()}:{path.stat().st_mtime_ns}"
            elif not stat.S_ISDIR(mode):
                found[key] = f"special:{stat.S_IFMT(mode)}"
    return found


def release_fifos(root: Path) -> None:
    """Open every FIFO for writing and close it, so a reader stuck on one sees the end of the file."""
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            if stat.S_ISFIFO(path.lstat().st_mode):
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:  # no reader waiting on it
                    pass


def within_deadline(call: Callable[[], object], what: str, seconds: int = 60):
    """call() under an alarm: past `seconds` (a read blocked on a FIFO) the FIFOs are released and the test fails.
    It runs in the main thread, as training installs its own signal handlers there."""
    late = []

    def on_alarm(signum, frame):
        late.append(what)
        release_fifos(Path.cwd())  # the blocked open() returns, and the call can finish

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        assert not late, f"{what} still ran after {seconds} s"


def check_command(argv: list[str]) -> None:
    result = within_deadline(lambda: run_cli(*argv), f"fineclass {' '.join(argv)!r}")
    assert result.exit_code in (0, 2), (argv, result.exit_code, result.output[-2000:], repr(result.exception))
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr[-2000:]


def check_api(call: Callable[[], object]) -> None:
    try:
        within_deadline(call, "the Python API")
    except FineclassError as err:
        assert "\n" not in str(err), str(err)


@pytest.fixture(scope="module")
def classifier_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return save_untrained_classifier(tiny_model_dir, tmp_path_factory.mktemp("classifier"))


@pytest.mark.parametrize("entry", DATA + CONFIGS + MODELS, ids=lambda entry: entry.name)
def test_a_hostile_input_is_exit_0_or_one_line_and_changes_nothing(entry, tmp_path, monkeypatch, tiny_model_dir,
                                                                     classifier_dir):
    monkeypatch.chdir(tmp_path)
    Path("tiny").symlink_to(tiny_model_dir)
    Path("model").symlink_to(classifier_dir)
    make_texts(60).to_csv("toy.csv", index=False)
    entry.setup()
    models = {path: snapshot(path) for path in (tiny_model_dir, classifier_dir)}
    for argv in entry.commands + ([None] if entry.api else []):
        before = snapshot(tmp_path)
        check_command(argv) if argv else check_api(entry.api)
        after = snapshot(tmp_path)
        assert {k: v for k, v in after.items() if k in before} == before, f"{argv or 'the API'} changed a file"
        new = [k for k in after if k not in before and not k.startswith("out")]
        assert new == [], f"{argv or 'the API'} wrote outside its output: {new}"
        release_fifos(tmp_path)
    assert {path: snapshot(path) for path in models} == models


# ---- requests to the server (the ASGI app, with keys and a Host check) ------------------------------------------

BIG = "x" * 1_000_000


def chunks(total: int, size: int = 1 << 20):
    """A body of `total` bytes sent in chunks, with no Content-Length."""
    yield b'{"texts": ["'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"]}'


REQUESTS = [  # (name, method, path, headers beyond the key, body)
    ("an X-Request-ID of 1 MB", "POST", "/predict", {"X-Request-ID": BIG}, {"texts": ["happy"]}),
    ("an Authorization header of 1 MB", "POST", "/predict", {"Authorization": "Bearer " + BIG}, {"texts": ["happy"]}),
    ("an Authorization header of Latin-1 bytes", "POST", "/predict", {"Authorization": b"Bearer \xff\xfe\x00"}, {"texts": ["a"]}),
    ("a Host header of 1 MB", "POST", "/predict", {"Host": BIG}, {"texts": ["happy"]}),
    ("5,000 headers", "POST", "/predict", {f"X-Junk-{i}": "y" * 100 for i in range(5_000)}, {"texts": ["happy"]}),
    ("a Content-Type of 100 KB", "POST", "/predict", {"Content-Type": "application/json; x=" + "y" * 100_000}, b'{"texts": ["a"]}'),
    ("a query string of 60 KB (httpx's limit is 64 KB)", "POST", "/predict?q=" + "x" * 60_000, {}, {"texts": ["happy"]}),
    ("a path out of the static files", "GET", "/static/../../../../etc/passwd", {}, None),
    ("an encoded path out of the static files", "GET", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", {}, None),
    ("TRACE", "TRACE", "/predict", {}, None),
    ("PUT", "PUT", "/predict", {}, {"texts": ["happy"]}),
    ("a chunked body of 20 MB without a length", "POST", "/predict", {"Content-Type": "application/json"}, chunks(20_000_000)),
    ("JSON after a byte-order mark", "POST", "/predict", {"Content-Type": "application/json"}, b'\xef\xbb\xbf{"texts": ["a"]}'),
    ("UTF-16 JSON", "POST", "/predict", {"Content-Type": "application/json; charset=utf-16"}, '{"texts": ["a"]}'.encode("utf-16")),
    ("100,000 empty texts", "POST", "/predict", {}, {"texts": [""] * 100_000}),
    ("texts of NUL characters", "POST", "/predict", {}, {"texts": ["\x00" * 1_000, "\x00"]}),
    ("an Accept-Language of 100 KB on the page", "GET", "/", {"Accept-Language": "en;q=0.1," * 10_000}, None),
    ("/info with an X-Request-ID of newlines", "GET", "/info", {"X-Request-ID": "a\tb c\x7f"}, None),
]
KEY = "hostile-test-key-0123456789"


@pytest.fixture(scope="module")
def server(classifier_dir):
    from fastapi.testclient import TestClient

    from fineclass.inference.predictor import Predictor
    from fineclass.serving.app import ServeSettings, create_app
    from fineclass.serving.security import AccessSettings

    settings = ServeSettings(max_texts=8, access=AccessSettings(api_keys=(KEY,), allowed_hosts=("localhost",)))
    with TestClient(create_app(Predictor.from_dir(classifier_dir), settings), base_url="http://localhost") as client:
        yield client


@pytest.mark.parametrize("name, method, path, headers, body", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_a_hostile_request_gets_a_2xx_or_a_one_line_4xx(server, name, method, path, headers, body):
    from tests.serving_fixtures import assert_one_line_error

    sent = {"Authorization": f"Bearer {KEY}", **headers}
    content = None if body is None or isinstance(body, dict) else body
    response = server.request(method, path, headers=sent, json=body if isinstance(body, dict) else None, content=content)
    assert 200 <= response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert_one_line_error(response)
    assert len(response.headers.get("x-request-id", "")) <= 64 and KEY not in response.text
    assert sum(len(k) + len(v) for k, v in response.headers.items()) < 4096  # nothing sent is echoed back
    assert server.get("/health").status_code == 200


# ---- depth and size: a run's own JSON files, and the readers' formats the reader tests leave out -------------------

LONG = "happy " * 3_500_000
"""21 MB of text on one line."""


def run_file_readers():
    from fineclass.evaluation.evaluate import read_saved_split
    from fineclass.outputs import MANIFEST, Manifest
    from fineclass.rundir import METRICS, SPLITS, RunMetrics, SplitsRecord, run_reading

    return {SPLITS: lambda run: (SplitsRecord.read(run), run_reading(run)), METRICS: RunMetrics.read,
            MANIFEST: Manifest.read, "data/test.jsonl": lambda run: read_saved_split(run / "data" / "test.jsonl")}


@pytest.mark.parametrize("content", [DEEP, json.dumps({"text": LONG, "labels": ["joy"], "command": LONG, "entries": [LONG]})],
                         ids=["nested 10,000 deep", "a 20 MB line"])
@pytest.mark.parametrize("name", ["splits.json", "metrics.json", ".fineclass-manifest.json", "data/test.jsonl"])
def test_a_run_file_nested_deep_or_huge_reads_or_is_one_line(tmp_path, classifier_dir, name, content):
    run = tmp_path / "run"
    shutil.copytree(classifier_dir, run / "model")
    (run / "data").mkdir()
    (run / name).write_text(content)
    try:
        within_deadline(lambda: run_file_readers()[name](run), name, seconds=30)
    except FineclassError as err:
        assert "\n" not in str(err) and len(str(err)) < 1000, str(err)[:2000]


def write_with_a_long_line(path: Path) -> None:
    """Two labeled rows, the first of 20 MB, in the format the suffix says."""
    import pandas as pd

    frame = pd.DataFrame({"text": [LONG, "so sad"], "label": ["joy", "sadness"]})
    if path.suffix == ".json":
        frame.to_json(path, orient="records")
    elif path.suffix == ".parquet":
        frame.to_parquet(path)
    elif path.suffix == ".ft":
        path.write_text(f"__label__joy {LONG}\n__label__sadness so sad\n")
    else:  # label names: one 20 MB name among them
        path.write_text(f"joy\n{LONG}\nsadness\n")


@pytest.mark.parametrize("name", ["d.json", "d.parquet", "d.ft", "labels.txt"])
def test_a_20_mb_line_in_a_reader_the_reader_tests_leave_out(tmp_path, name):
    from fineclass.data.load import load_raw_data
    from fineclass.data.prepare import prepare_task
    from fineclass.inference.files import iter_input_chunks, plan_input

    path = tmp_path / name
    write_with_a_long_line(path)
    data, names = (tmp_path / "d.csv", path) if name == "labels.txt" else (path, None)
    if names:
        data.write_text("text,label\nglad,0\nsad,2\n")

    def read_as_train_and_predict_do():
        task = prepare_task(load_raw_data(str(data)), label_names_file=names)
        plan = plan_input(data, None)
        return task, [len(text) for chunk in iter_input_chunks(data, 50, layout=plan.layout) for text in plan.texts(chunk)]

    try:
        task, lengths = within_deadline(read_as_train_and_predict_do, name, seconds=60)
    except FineclassError as err:
        assert "\n" not in str(err) and len(str(err)) < 1000, str(err)[:2000]
    else:
        assert len(task.frames["all"]) == 2 and (names or max(lengths) >= 20_000_000)
