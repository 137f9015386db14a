"""Where the model runs: in worker processes by default, so scoring never holds the event loop's GIL.

sklearn's text vectorisers are mostly pure Python: scored in a thread, they hold the GIL and every
socket write on the event loop waits behind them.  A worker process loads its own copy of the model once
(``init``) and scores micro-batches sent by :class:`classifier.batcher.MicroBatcher`.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

_model: Any = None


def init(path: str | None) -> None:
    global _model
    from classifier import load_model

    _model = load_model(Path(path) if path else None)


def score(texts: list[str]) -> list[Any]:
    """Runs in a worker process: the batch's scores (picklable ``classifier.Scores``)."""
    return _model.score(texts)


def process_pool(processes: int, model_path: Path | None) -> ProcessPoolExecutor:
    # forkserver: never fork the threaded service process itself
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=init, initargs=(str(model_path) if model_path else None,))
