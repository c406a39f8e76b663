"""What a training run is: its settings, and the errors a user can act on."""

import dataclasses
import math
import re
from typing import Optional


class RunError(Exception):
    """A run cannot start as asked (bad settings, a directory in the way)."""


# Settings that must match for a run directory's backup to be resumed.
TRAINING_KEYS = (
    "model", "model_kwargs", "dataset", "source", "data_dir", "batch_size",
    "steps", "steps_per_epoch", "paired", "seed", "precision",
)

# --precision values and the Keras dtype policies they select.
PRECISIONS = {"float32": "float32", "bf16": "mixed_bfloat16"}

DEFAULT_BACKUP_EVERY = "60s"


def parse_backup_every(value):
    """`("steps", n)` for `"N"`, `("seconds", s)` for `"Ns"` (e.g. `"60s"`).

    Args:
        value: an int, or a string of digits, optionally ending in `s`.

    Example:

    >>> parse_backup_every("60s")
    ('seconds', 60.0)
    """
    text = str(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s?)", text)
    if not match or float(match.group(1)) <= 0:
        raise RunError(
            f"--backup-every must be a number of steps (e.g. 200) or of "
            f"seconds (e.g. 60s), > 0; got {value!r}."
        )
    if match.group(2):
        return "seconds", float(match.group(1))
    if "." in match.group(1):
        raise RunError(f"A number of steps must be whole; got {value!r}.")
    return "steps", int(match.group(1))


@dataclasses.dataclass
class TrainConfig:
    """Everything `runs.train` needs to train (or resume) one run.

    Args:
        model: a name of `keras_factorvae.models.MODELS`.
        model_kwargs: constructor arguments (latent_dim, preset, gamma...).
        dataset, source, data_dir: see `keras_factorvae.datasets.load`.
        batch_size: images per step.
        steps: training steps in all.
        steps_per_epoch: steps per Keras epoch (history rows, pictures);
            default `min(steps, 500)`.
        paired: feed `(x, x2)` batch pairs (FactorVAE's Algorithm 2).
        seed: seed of the weights, the noise and the batches.
        precision: `"float32"` (default) or `"bf16"`: the model is built
            under Keras' `mixed_bfloat16` policy (bfloat16 compute, float32
            weights and losses). Faster on CPUs with native bfloat16
            (AVX512_BF16, AMX) on TensorFlow and PyTorch; slower on JAX's
            CPU backend (see the README's Benchmark section).
        backup_every: back up every N steps (`"200"`) or seconds (`"60s"`).
        max_seconds: a training time budget in seconds (None: none).
            Training stops after the first step that ends past it and the
            run finishes there, so `steps` is then an upper bound and
            `run.json`'s `steps_done` the steps taken. The budget covers
            all invocations of a resumed run (the seconds trained before a
            kill are kept in the backup).
        metrics: metrics computed at the end (None: the default set).
        metric_size: their sample sizes (`reporting.METRIC_SIZES` key or int).
        metrics_every: also log headline metrics every N epochs (0: off).
        traversal_every: a traversal picture every N epochs (0: off).
        traversal_mode: "fixed", "sigma" or "minmax".
        tensorboard: write TensorBoard logs.
        pictures: write the final pictures and the report.
        verbose: Keras progress verbosity.
        overwrite: discard what a previous run left in the directory.
        command: the command line, recorded in `run.json`.

    Example:

    >>> config = TrainConfig(model="factorvae", model_kwargs={"gamma": 35.0},
    ...                      steps=3000)
    >>> record = keras_factorvae.runs.train(config, "runs/fvae").record
    """

    model: str = "factorvae"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    dataset: str = "dsprites"
    source: Optional[str] = None
    data_dir: Optional[str] = None
    batch_size: int = 64
    steps: int = 3000
    steps_per_epoch: Optional[int] = None
    paired: bool = False
    seed: int = 0
    precision: str = "float32"
    backup_every: str = DEFAULT_BACKUP_EVERY
    max_seconds: Optional[float] = None
    metrics: Optional[tuple] = None
    metric_size: object = "small"
    metrics_every: int = 0
    traversal_every: int = 1
    traversal_mode: str = "fixed"
    tensorboard: bool = False
    pictures: bool = True
    verbose: int = 1
    overwrite: bool = False
    command: str = ""

    def __post_init__(self):
        if self.steps < 1:
            raise RunError(f"steps must be >= 1; got {self.steps}.")
        if self.steps_per_epoch is None:
            self.steps_per_epoch = min(self.steps, 500)
        if self.steps_per_epoch < 1:
            raise RunError(
                f"steps_per_epoch must be >= 1; got {self.steps_per_epoch}.")
        parse_backup_every(self.backup_every)
        if self.max_seconds is not None:
            self.max_seconds = float(self.max_seconds)
            if not self.max_seconds > 0:
                raise RunError(
                    f"max_seconds must be > 0; got {self.max_seconds}.")
        self.paired = bool(self.paired)
        if self.precision not in PRECISIONS:
            raise RunError(
                f"precision must be one of {', '.join(PRECISIONS)}; got "
                f"{self.precision!r}.")

    @property
    def epochs(self):
        return math.ceil(self.steps / self.steps_per_epoch)

    def training_settings(self):
        """The settings a resumed run must share with the one it resumes."""
        settings = {k: getattr(self, k) for k in TRAINING_KEYS}
        settings["epochs"] = self.epochs
        return settings
