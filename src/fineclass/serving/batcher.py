"""Dynamic micro-batching: requests that arrive together share one forward pass, off the event loop."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

logger = logging.getLogger(__name__)

Encoded = dict[str, list[list[int]]]


@dataclass
class BatchingSettings:
    """How requests are grouped into forward passes."""

    enabled: bool = True
    """Off: every request gets its own forward pass, one at a time."""
    max_wait_ms: float = 5.0
    """How long the first request of a batch waits for company, while the model is idle and the last batch
    had company too (a lone client never waits)."""
    max_batch_tokens: int = 8192
    """Cap on texts x longest text (padded tokens) per forward pass; a larger single request still runs alone."""
    max_batch_texts: int = 256
    """Cap on texts per forward pass."""
    max_queue: int = 256
    """Requests waiting for the model at most; one more is refused (QueueFull) rather than kept waiting."""


class Unavailable(Exception):
    """The model cannot take this request now (the server is stopping, or the worker is gone): a 503."""


class QueueFull(Unavailable):
    """max_queue requests are waiting already: try again shortly."""


@dataclass
class _Job:
    encoded: Encoded
    future: asyncio.Future
    longest: int = field(init=False)

    def __post_init__(self):
        self.longest = max(len(ids) for ids in self.encoded["input_ids"])

    @property
    def size(self) -> int:
        return len(self.encoded["input_ids"])


def model_thread() -> ThreadPoolExecutor:
    """The one thread that runs the model.

    Load the model on this thread too (`model_thread().submit(Predictor.from_dir, ...)`): torch's OpenMP
    threads belong to the thread that ran the first parallel operation, and small forward passes from any
    other thread ran 2.4x slower here (bf16: 12.6 against 5.1 ms per text; fp32: 6.5 against 5.3).
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="fineclass-model")


class MicroBatcher:
    """Queue requests, group them under a token budget, and run each group in one worker thread.

    `run_batch` takes the merged encodings and returns one row of logits per text. It runs in a single
    worker thread, so the model is never called concurrently and the event loop stays free for I/O.
    """

    def __init__(self, run_batch: Callable[[Encoded], np.ndarray], settings: BatchingSettings,
                 on_batch: Callable[[int, int], None] | None = None, executor: ThreadPoolExecutor | None = None):
        """`executor`: a one-thread pool to run the model on; pass the one that loaded the model (see
        `model_thread`)."""
        self.run_batch = run_batch
        self.settings = settings
        self.on_batch = on_batch or (lambda texts, requests: None)
        self.executor = executor or model_thread()
        self.queue: asyncio.Queue[_Job] | None = None
        self.task: asyncio.Task | None = None
        self._carry: _Job | None = None
        self._last_requests = 1
        self.pending = 0
        """Requests submitted and still waiting for their answer."""
        self.running = False
        """A forward pass is running (whether or not its requests still wait: their deadline may have passed)."""
        self.progress_at = 0.0
        """When the model last finished a batch, or work arrived at an idle model (event-loop time)."""

    async def start(self) -> None:
        self.queue = asyncio.Queue(self.settings.max_queue)
        self.task = asyncio.create_task(self._loop(), name="fineclass-batcher")

    async def stop(self) -> None:
        """Finish the batch in flight, fail what is still queued, and release the worker thread."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        while self.queue is not None and not self.queue.empty():
            job = self.queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(Unavailable("the server is shutting down"))
        self.executor.shutdown(wait=True)

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    def stalled(self, seconds: float) -> bool:
        """Work is waiting, and the model has finished nothing for `seconds`: it hangs, or is far behind."""
        busy = self.pending > 0 or self.running
        return busy and asyncio.get_running_loop().time() - self.progress_at > seconds

    async def submit(self, encoded: Encoded) -> np.ndarray:
        """Logits for one request's encoded texts, once its batch has run.

        Raises QueueFull when max_queue requests wait already. Cancelling the wait (a deadline) drops the job:
        a job still queued is never run."""
        if not self.alive:
            raise Unavailable("the model worker is not running")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        try:
            self.queue.put_nowait(_Job(encoded, future))
        except asyncio.QueueFull:
            raise QueueFull(f"{self.settings.max_queue} requests are waiting for the model already") from None
        if self.pending == 0 and not self.running:
            self.progress_at = loop.time()  # an idle model has not stalled: its clock starts now
        self.pending += 1
        try:
            return await future
        finally:
            self.pending -= 1

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [job for job in await self._collect() if not job.future.done()]  # done: its deadline passed
            if not jobs:
                continue
            self._last_requests = len(jobs)
            merged = {key: [row for job in jobs for row in job.encoded[key]] for key in jobs[0].encoded}
            self.on_batch(sum(job.size for job in jobs), len(jobs))
            self.running = True
            try:
                logits = await loop.run_in_executor(self.executor, self.run_batch, merged)
            except Exception as err:  # a failing batch fails its requests, never the server
                self.running, self.progress_at = False, loop.time()
                logger.exception("a batch of %d request(s) failed", len(jobs))
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(err)
                continue
            self.running, self.progress_at = False, loop.time()
            start = 0
            for job in jobs:
                if not job.future.done():  # the client may have gone away
                    job.future.set_result(logits[start:start + job.size])
                start += job.size

    async def _collect(self) -> list[_Job]:
        """The next group: whatever is queued now, plus up to max_wait_ms of late arrivals, under the caps."""
        first = self._carry or await self.queue.get()
        self._carry = None
        jobs = [first]
        if not self.settings.enabled:
            return jobs
        loop = asyncio.get_running_loop()
        # Waiting only pays under concurrent load; a lone client would just lose max_wait_ms per request.
        wait = self.settings.max_wait_ms / 1000 if self._last_requests > 1 else 0.0
        deadline = loop.time() + wait
        texts, longest = first.size, first.longest
        while texts < self.settings.max_batch_texts:
            try:
                if self.queue.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    job = await asyncio.wait_for(self.queue.get(), remaining)
                else:
                    job = self.queue.get_nowait()
            except (asyncio.TimeoutError, TimeoutError):
                break
            padded = (texts + job.size) * max(longest, job.longest)
            if padded > self.settings.max_batch_tokens or texts + job.size > self.settings.max_batch_texts:
                self._carry = job  # it starts the next batch
                break
            jobs.append(job)
            texts, longest = texts + job.size, max(longest, job.longest)
        return jobs
