"""The batching writer: events go to memory at once and to the store every FLUSH_SECONDS.

Recording never waits and never raises: a search must not be slowed or failed by its log.
Events alike in all but id and time (one popular search, thousands of times) are kept as one
group, so a hot query costs one entry however often it is searched. A store that is busy
(locked, full, its file gone) is retried with back-off and nothing is dropped until
MAX_PENDING events wait; an event the store refuses is dropped alone, never its whole batch.
Whatever is dropped is counted, shown by `health()` and logged once per WARN_SECONDS.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

from kb_search.querylog.events import Event

log = logging.getLogger("kb_search.querylog")

FLUSH_SECONDS = 0.05  # how long events wait to be written, at most (plus the write itself)
MAX_PENDING = 200_000  # events held while the store is busy; past this, new ones are dropped
WARN_SECONDS = 10.0
_BACKOFF = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
CLOSE_SECONDS = 10.0  # how long close() keeps trying a busy store before it gives up

# Events alike in all but id and time, in the order they were first recorded.
Batch = list[list[Event]]


class StoreBusy(Exception):
    """The store cannot take writes just now (locked, full, unavailable): try again later."""


class EventStore(Protocol):
    """What a storage backend does for the writer."""

    name: str

    def write(self, batch: Batch) -> None:
        """Store every event of `batch` in one transaction; StoreBusy to be tried again."""

    def close(self) -> None: ...


@dataclass
class WriterHealth:
    queued: int  # events waiting to be written
    written: int
    dropped: int  # lost: the wait was full, or the store refused them
    retrying: bool  # the store is busy and being retried
    last_error: str | None


class BatchingWriter:
    """Writes events to an `EventStore` from one background thread, started on first use."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._pending: dict[Hashable, list[Event]] = {}
        self._pending_count = 0
        self._recorded = 0  # events accepted or dropped, ever
        self._done = 0  # events written or dropped, ever
        self._written = 0
        self._dropped = 0
        self._unreported_drops = 0
        self._warned_at = float("-inf")
        self._retrying = False
        self._last_error: str | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self.close_seconds = CLOSE_SECONDS

    def record(self, event: Event) -> None:
        """Hold `event` for the writer; never blocks on the store, never raises."""
        try:
            with self._cond:
                self._recorded += 1
                if self._closed or self._pending_count >= MAX_PENDING:
                    self._done += 1
                    self._drop(1, "the log is closed" if self._closed else "too many are waiting")
                    return
                self._pending.setdefault(event.same_as(), []).append(event)
                self._pending_count += 1
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="kb-querylog-writer", daemon=True
                    )
                    self._thread.start()
                self._cond.notify_all()
        except Exception:  # a log must never break a search
            log.exception("query log: could not record an event")

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything recorded so far is written or dropped; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._recorded
            self._cond.notify_all()
            while self._done < target:
                if self._thread is None or not self._thread.is_alive():
                    return self._done >= target
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Write what is waiting (trying a busy store for a while), then stop. Idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join()  # the thread closes the store it wrote with
        else:
            self.store.close()

    def health(self) -> WriterHealth:
        """`queued`: every event not yet written, the batch being written (or retried) too."""
        with self._cond:
            return WriterHealth(
                self._recorded - self._done,
                self._written,
                self._dropped,
                self._retrying,
                self._last_error,
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    self.store.close()  # closed, and nothing is left
                    return
                batch, count = list(self._pending.values()), self._pending_count
                self._pending, self._pending_count = {}, 0
            self._write(batch, count)
            if not self._closed:
                time.sleep(FLUSH_SECONDS)  # let the next batch gather

    def _write(self, batch: Batch, count: int) -> None:
        """Store `batch`; when the store refuses it, each group, then each event, alone."""
        refused = self._store(batch, count)
        if refused is None or count == 1:  # stored, or that one event was dropped
            return
        log.warning("query log: a batch failed (%s); writing it piece by piece", refused)
        for group in batch:
            if self._store([group], len(group)) is None or len(group) == 1:
                continue
            for event in group:
                self._store([[event]], 1)

    def _store(self, batch: Batch, count: int) -> Exception | None:
        """Write, waiting out a busy store (counted as finished either way); the error of a
        store that refuses the batch, which is not counted yet unless it is a single event."""
        started = time.monotonic()
        for attempt in itertools.count():
            try:
                self.store.write(batch)
            except StoreBusy as error:
                self._note_busy(error)
                if self._closed and time.monotonic() - started > self.close_seconds:
                    self._finish(0, count, f"the store stayed busy at shutdown: {error}")
                    return None
                time.sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
                continue
            except Exception as error:
                if count == 1:
                    self._finish(0, 1, f"{type(error).__name__}: {error}")
                return error
            self._finish(count, 0)
            return None
        return None  # pragma: no cover - the loop above only ends by returning

    def _note_busy(self, error: Exception) -> None:
        with self._cond:
            if not self._retrying:
                log.warning("query log store is busy (%s); retrying", error)
            self._retrying, self._last_error = True, str(error)

    def _finish(self, written: int, dropped: int, why: str | None = None) -> None:
        with self._cond:
            self._written += written
            self._done += written + dropped
            self._retrying = False
            if dropped:
                self._last_error = why
                self._drop(dropped, why or "refused")
            self._cond.notify_all()

    def _drop(self, count: int, why: str) -> None:
        """Count lost events; warn at most once per WARN_SECONDS. Called holding the lock."""
        self._dropped += count
        self._unreported_drops += count
        now = time.monotonic()
        if now - self._warned_at >= WARN_SECONDS:
            log.warning(
                "query log: %d events dropped (%s); %d dropped in all",
                self._unreported_drops,
                why,
                self._dropped,
            )
            self._warned_at, self._unreported_drops = now, 0
