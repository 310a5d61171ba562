"""Micro-batching: concurrent requests share forward passes, under the token and text caps."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from fineclass.serving.batcher import BatchingSettings, MicroBatcher, QueueFull


def run_requests(settings: BatchingSettings, requests: list[list[list[int]]], fail_on: int | None = None):
    """Submit every request at once; returns each request's rows and the sizes of the batches run."""
    batches = []

    def run_batch(encoded):
        time.sleep(0.02)  # a forward pass takes time, so later requests queue up behind it
        batches.append(len(encoded["input_ids"]))
        if fail_on is not None and fail_on in [ids[0] for ids in encoded["input_ids"]]:
            raise ValueError("bad batch")
        return np.array([[float(ids[0]), float(len(ids))] for ids in encoded["input_ids"]])

    async def main():
        batcher = MicroBatcher(run_batch, settings)
        await batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit({"input_ids": ids}) for ids in requests), return_exceptions=True)
        finally:
            await batcher.stop()

    return asyncio.run(main()), batches


def make_requests(count: int, texts_each: int = 1, length: int = 5) -> list[list[list[int]]]:
    return [[[i * 10 + j] * length for j in range(texts_each)] for i in range(count)]


def test_concurrent_requests_share_batches_and_get_their_own_rows():
    requests = make_requests(16, texts_each=2)
    results, batches = run_requests(BatchingSettings(max_wait_ms=20), requests)
    assert sum(batches) == 32 and len(batches) < 16
    for request, rows in zip(requests, results):
        np.testing.assert_array_equal(rows[:, 0], [ids[0] for ids in request])


def test_batching_off_runs_each_request_alone():
    results, batches = run_requests(BatchingSettings(enabled=False), make_requests(6, texts_each=3))
    assert batches == [3] * 6 and all(r.shape == (3, 2) for r in results)


@pytest.mark.parametrize(("settings", "largest"), [
    (BatchingSettings(max_wait_ms=20, max_batch_tokens=40), 8),  # 8 texts x 5 tokens
    (BatchingSettings(max_wait_ms=20, max_batch_texts=4), 4),
])
def test_batches_stay_under_the_caps(settings, largest):
    _, batches = run_requests(settings, make_requests(20))
    assert sum(batches) == 20 and max(batches) == largest


def test_a_request_over_the_token_budget_still_runs_alone():
    results, batches = run_requests(BatchingSettings(max_batch_tokens=10), make_requests(2, texts_each=4, length=50))
    assert batches == [4, 4] and results[1].shape == (4, 2)


def test_a_failing_batch_fails_only_its_requests():
    results, _ = run_requests(BatchingSettings(enabled=False), make_requests(3), fail_on=10)
    assert isinstance(results[1], ValueError)
    assert results[0].shape == (1, 2) and results[2].shape == (1, 2)


def test_a_lone_client_does_not_wait_for_company():
    async def main():
        batcher = MicroBatcher(lambda enc: np.zeros((len(enc["input_ids"]), 2)), BatchingSettings(max_wait_ms=60_000))
        await batcher.start()
        started = time.perf_counter()
        for _ in range(3):
            await batcher.submit({"input_ids": [[1, 2]]})
        await batcher.stop()
        return time.perf_counter() - started

    assert asyncio.run(main()) < 30  # waiting for company would hold each request back a whole minute


def test_a_full_queue_refuses_at_once_and_a_cancelled_job_never_runs():
    started, release, ran = asyncio.Event(), asyncio.Event(), []

    async def main():
        loop = asyncio.get_running_loop()

        def run_batch(encoded):
            ran.append(encoded["input_ids"][0][0])
            loop.call_soon_threadsafe(started.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)
            return np.zeros((len(encoded["input_ids"]), 2))

        batcher = MicroBatcher(run_batch, BatchingSettings(max_queue=2))
        await batcher.start()
        first = asyncio.create_task(batcher.submit({"input_ids": [[1]]}))
        await started.wait()
        queued = [asyncio.create_task(batcher.submit({"input_ids": [[n]]})) for n in (2, 3)]
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull, match="2 requests are waiting for the model already"):
            await batcher.submit({"input_ids": [[4]]})
        queued[0].cancel()  # its deadline passed while it waited
        await asyncio.sleep(0.05)
        stalled = batcher.stalled(0.01), batcher.pending
        release.set()
        await asyncio.gather(first, queued[1])
        idle = batcher.stalled(0.0), batcher.pending
        await batcher.stop()
        return stalled, idle

    (stalled, idle) = asyncio.run(main())
    assert ran == [1, 3] and stalled == (True, 2) and idle == (False, 0)
