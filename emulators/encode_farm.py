"""Parallel GOP encoding that keeps virtual time exact.

Every camera finishes a GOP at the same loop instant (boundaries are aligned). Each submits
its GOP here; one callback per loop iteration encodes the whole batch on a thread pool
(PyAV releases the GIL while x264 works) and blocks the loop until all are done, so no
virtual time passes while encoding, exactly as if the encodes had run one after another."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from emulators.video import EncoderSession, Fragment


@dataclass
class _Job:
    session: EncoderSession
    times: list[int]
    clock_unset: bool
    complexity: float
    end_ms: int | None
    audible_from_ms: int | None
    future: asyncio.Future


class EncodeFarm:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gop") if self.workers > 1 else None
        self._queue: list[_Job] = []
        self._scheduled = False
        self.batches = 0
        self.gops = 0

    def encode(self, session: EncoderSession, times: list[int], clock_unset: bool, complexity: float = 0.0,
               end_ms: int | None = None, audible_from_ms: int | None = None) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self._queue.append(_Job(session, times, clock_unset, complexity, end_ms, audible_from_ms, fut))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run_batch)
        return fut

    def _run_batch(self) -> None:
        jobs, self._queue, self._scheduled = self._queue, [], False
        self.batches += 1
        self.gops += len(jobs)
        if self._pool is None or len(jobs) == 1:
            results = [self._run(j) for j in jobs]
        else:
            results = list(self._pool.map(self._run, jobs))
        for job, result in zip(jobs, results):
            if job.future.cancelled():
                continue
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    @staticmethod
    def _run(job: _Job) -> list[Fragment] | BaseException:
        try:
            return job.session.encode_gop(job.times, job.clock_unset, job.complexity, job.end_ms, job.audible_from_ms)
        except Exception as exc:  # handed to the awaiting camera
            return exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
