"""The distillation recipe: a compact student learns a teacher run's outputs on the teacher's own split.

teacher run → student (the teacher's first K layers, or another model with its tokenizer) → the teacher's logits
for the training texts (and unlabeled ones), once → `run_training` with the distillation loss → an ordinary run.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from fineclass.config import DISTILL_ALPHA, DISTILL_TEMPERATURE, TrainConfig, load_config_file
from fineclass.data.options import ReadOptions
from fineclass.errors import ConfigError, DataError
from fineclass.inference.predictor import Predictor
from fineclass.labels import LabelSpace
from fineclass.modeling import load_tokenizer, resolve_model_path, save_first_layers
from fineclass.outputs import check_output_dir, write_text_atomic
from fineclass.recipes.results import RunResult
from fineclass.recipes.train import TrainHooks, TrainSetup, run_training
from fineclass.rundir import CONFIG, DATA, RUN_OUTPUT, SplitsRecord, resolve_model_dir, run_dir_of
from fineclass.training.calibration import fold_into_model_dir, inverse, read_folded_map
from fineclass.training.distill import DistillCollator, DistillTrainer, Teacher, distillation_dataset, teacher_targets

logger = logging.getLogger(__name__)

DISTILL_OUTPUT = replace(RUN_OUTPUT, command="distill")


class DistillHooks(TrainHooks):
    """The train recipe's hooks for a distillation: the student learns the teacher's outputs as well as the labels."""

    command = "distill"

    def __init__(self, teacher: Teacher):
        self.teacher = teacher
        self.targets = None
        """The teacher's logits for the training texts and the unlabeled ones, computed once in `prepare`."""

    def extra_texts(self) -> int:
        return len(self.teacher.unlabeled)

    def adjust_plan(self, plan) -> None:
        plan.contrastive_weight = 0.0  # a student learns the teacher's outputs, not a pair structure of its own

    def recorded_config(self, config: TrainConfig) -> TrainConfig:
        return replace(config, model=self.teacher.student)  # a distilled student starts from a temporary copy

    def prepare(self, setup: TrainSetup, announce) -> None:
        self.targets = teacher_targets(self.teacher, setup.frames["train"], announce)

    def train_dataset(self, setup: TrainSetup):
        return distillation_dataset(setup.encoded["train"], self.targets, self.teacher, setup.tokenizer,
                                    setup.label_space, setup.max_length, setup.long_texts)

    def trainer_class(self, args, collator):
        args.remove_unused_columns = False  # the teacher's columns reach compute_loss; the collator drops `length`
        return DistillTrainer, DistillCollator(collator), {"temperature": self.teacher.temperature,
                                                           "alpha": self.teacher.alpha}

    def record(self, train: dict) -> None:
        teacher = self.teacher
        train["distillation"] = {"teacher": teacher.source, "temperature": teacher.temperature, "alpha": teacher.alpha,
                                 "unlabeled_texts": len(teacher.unlabeled)}


def check_distill_options(layers: int | None, student: str | None, temperature: float, alpha: float) -> None:
    problems = []
    if (layers is None) == (student is None):
        problems.append("give the student as --layers K (the teacher's first K layers) or --student MODEL, not both")
    if layers is not None and layers < 1:
        problems.append(f"--layers must be >= 1, got {layers}")
    if not temperature > 0:
        problems.append(f"--temperature must be > 0, got {temperature}")
    if not 0 <= alpha <= 1:
        problems.append(f"--alpha must be between 0 and 1, got {alpha}")
    if problems:
        raise ConfigError("; ".join(problems))


def teacher_run_of(teacher: str | Path) -> tuple[Path, Path]:
    """(run dir, model dir) of TEACHER, which must be a fineclass run with its saved split."""
    model_dir = resolve_model_dir(teacher)
    run_dir = run_dir_of(model_dir)
    if run_dir is None or not (run_dir / DATA / "train.jsonl").is_file() or not (run_dir / DATA / "validation.jsonl").is_file():
        raise DataError(f"{teacher} is not a fineclass run directory with its saved split (data/train.jsonl, "
                        "data/validation.jsonl); distill trains the student on the teacher's own split: give the run "
                        "directory that `fineclass train` wrote")
    return run_dir, model_dir


def student_config(config: TrainConfig, run_dir: Path, labels_file: Path, label_space: LabelSpace) -> TrainConfig:
    """The student's settings: the training options given, on the teacher's saved split, read as compare reads one."""
    teacher = load_config_file(run_dir / CONFIG) if (run_dir / CONFIG).is_file() else {}
    paired = "text_pair" in (run_dir / DATA / "train.jsonl").open(encoding="utf-8").readline()
    given = {name for name in ("max_length",) if getattr(config, name) is not None}
    return replace(
        config, data=str(run_dir / DATA), text_column="text", label_column="labels", label_names=str(labels_file),
        text_pair_column="text_pair" if paired else None, label_columns=None, multi_label=label_space.multi_label,
        reading=ReadOptions(),
        max_train_samples=None, max_eval_samples=None, split=(0.7, 0.2, 0.1),
        max_length=config.max_length if "max_length" in given else teacher.get("max_length"),
    )


def build_layer_student(teacher_model_dir: Path, layers: int, target: Path) -> Path:
    """The fine-tuned teacher's embeddings, first K layers, pooler and classifier head, as a K-layer classifier."""
    from transformers import AutoConfig

    total = getattr(AutoConfig.from_pretrained(teacher_model_dir), "num_hidden_layers", None)
    if total is None:
        raise ConfigError(f"--layers: the teacher in {teacher_model_dir} does not say how many layers it has "
                          "(no num_hidden_layers); use --student MODEL")
    if layers > total:
        raise ConfigError(f"--layers {layers}: the teacher has only {total} layers; use 1 to {total}")
    save_first_layers(teacher_model_dir, layers, target, head=True)
    folded = read_folded_map(teacher_model_dir, AutoConfig.from_pretrained(teacher_model_dir).num_labels)
    if not (np.allclose(folded.scale, 1) and np.allclose(folded.bias, 0)):
        fold_into_model_dir(target, inverse(folded))  # the student starts from the teacher's uncalibrated head
    return target


def check_same_tokenizer(student: str, teacher_model_dir: Path) -> None:
    """A student must split text into the same tokens as the teacher, or its inputs mean something else."""
    theirs, ours = load_tokenizer(resolve_model_path(student)), load_tokenizer(str(teacher_model_dir))
    if theirs.get_vocab() != ours.get_vocab():
        raise ConfigError(f"--student {student} has another tokenizer than the teacher ({len(theirs.get_vocab())} "
                          f"against {len(ours.get_vocab())} tokens); give a student with the teacher's tokenizer, "
                          "or use --layers K")


def read_unlabeled(path: str | Path, column: str | None, reading: dict) -> list[str]:
    from fineclass.inference.files import iter_input_chunks, plan_input

    source = Path(path).expanduser()
    if not source.is_file():
        raise DataError(f"--unlabeled file not found: {source}")
    plan = plan_input(source, column, None, None, {"text_columns": reading.get("text_columns")})
    texts = [text for chunk in iter_input_chunks(source, 10_000, layout=plan.layout)
             for text in plan.texts(chunk).astype(str) if text.strip()]
    if not texts:
        raise DataError(f"--unlabeled {source} has no texts in column {plan.text_columns}")
    return texts


def run_distillation(teacher: str | Path, config: TrainConfig, *, layers: int | None = None, student: str | None = None,
                     temperature: float = DISTILL_TEMPERATURE, alpha: float = DISTILL_ALPHA, unlabeled: str | Path | None = None,
                     unlabeled_column: str | None = None, progress=None, announce=None) -> RunResult:
    """Distil the teacher run into a student and write an ordinary run directory in `config.output_dir`.

    `config` holds the training options (epochs, learning rate, batch size, ...); its data options are replaced by
    the teacher's saved split. The student is the teacher's first `layers` layers, or the model `student`.
    """
    check_distill_options(layers, student, temperature, alpha)
    run_dir, model_dir = teacher_run_of(teacher)
    inputs = [("TEACHER", run_dir), ("--unlabeled", unlabeled), ("--student", student)]
    check_output_dir(Path(config.output_dir), DISTILL_OUTPUT, config.overwrite, inputs)
    predictor = Predictor.from_dir(model_dir, batch_size=config.eval_batch_size, precision="auto")
    label_space = predictor.label_space
    reading = SplitsRecord.read(run_dir).reading if (run_dir / "splits.json").is_file() else {}
    texts = read_unlabeled(unlabeled, unlabeled_column, reading or {}) if unlabeled else []
    if student is not None:
        check_same_tokenizer(student, model_dir)
    with tempfile.TemporaryDirectory(prefix="fineclass-distill-") as tmp:
        labels_file = Path(tmp) / "labels.txt"
        write_text_atomic(labels_file, "\n".join(label_space.names) + "\n")
        base = student or str(build_layer_student(model_dir, layers, Path(tmp) / "student"))
        student_name = student or f"first {layers} layers of {run_dir}"
        run_config = replace(student_config(config, run_dir, labels_file, label_space), model=base)
        signal = Teacher(predictor, temperature, alpha, texts, source=str(run_dir), student=student_name,
                         folded=read_folded_map(model_dir, label_space.num_labels))
        result = run_training(run_config, progress=progress, announce=announce, hooks=DistillHooks(signal))
    result.config = replace(result.config, model=student_name)
    return result

