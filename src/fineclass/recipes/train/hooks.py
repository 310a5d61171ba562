"""TrainHooks: the named points where a variant of training (distillation, a search trial) changes the recipe.

The plain run uses `TrainHooks()` itself, which changes nothing; a variant subclasses it and overrides the methods
it needs, the way a Trainer callback does (`recipes/distill.py` has one). The recipe calls the hooks in this order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fineclass.config import TrainConfig
    from fineclass.recipes.train.setup import TrainSetup
    from fineclass.training.small_data import SmallDataPlan


class TrainHooks:
    """A plain training run: every hook leaves the recipe as it is."""

    command = "train"
    """The command the run directory records as its maker (a run of another command is never overwritten)."""

    def extra_texts(self) -> int:
        """Texts the run trains on besides the labeled training rows, for the small-set plan."""
        return 0

    def adjust_plan(self, plan: SmallDataPlan) -> None:
        """Change the small-set plan (schedule, pair loss) before it is announced."""

    def recorded_config(self, config: TrainConfig) -> TrainConfig:
        """The settings as config.yaml, metrics.json and the model card record them."""
        return config

    def prepare(self, setup: TrainSetup, announce) -> None:
        """Work done once before the Trainer is built (the model is built, the run directory written)."""

    def train_dataset(self, setup: TrainSetup):
        """The training rows the Trainer reads."""
        return setup.encoded["train"][0]

    def callbacks(self) -> list:
        """Trainer callbacks the variant adds (a search trial's: report each evaluation to the study, stop a bad trial)."""
        return []

    def trainer_class(self, args, collator) -> tuple[type, object, dict]:
        """The Trainer class, the data collator and extra keywords for the Trainer (`args` may be changed)."""
        from fineclass.training.trainer import FineclassTrainer

        return FineclassTrainer, collator, {}

    def record(self, train: dict) -> None:
        """Add to metrics.json's `train` section."""
