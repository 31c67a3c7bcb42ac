"""`kb serve --workers N`: N processes answering on one port, each listening on a socket of its
own (SO_REUSEPORT), so that the kernel spreads new connections evenly over them.

uvicorn's own supervisor gives every worker one shared socket, and the worker that wakes first
accepts every connection waiting: under a load balancer's few kept-alive connections one worker
answered all of them at 100 % of a core while the other idled (two workers, 725 searches a
second; one, 1,228). Its socket also left Nagle's algorithm on (Kludex/uvicorn#3149): each
answer on a kept-alive connection waited ~40 ms for the client's delayed ACK.

The supervisor holds the port (bound, never listening, so it is never given a connection),
starts a worker again when one dies, and on SIGINT, SIGTERM or SIGHUP stops them all: each
answers what it has and writes the events it holds (killed after STOP_SECONDS). A worker listens
only once its app has started, and stops when the supervisor is gone. Only processes of the
same user can join the port, and only when nothing listens on it yet.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

log = logging.getLogger("uvicorn.error")  # configured by uvicorn: said with its own lines
STOP_SECONDS = 30.0  # a worker still running this long after SIGTERM is killed
# A worker that dies this soon after its start, this many times in a row, means it cannot run.
EARLY_DEATH_SECONDS = 5.0
EARLY_DEATHS = 5
STARTUP_FAILURE = 3  # uvicorn's exit code when a server cannot start: not worth another try
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) that other processes of this user may bind too;
    asyncio makes it listen once the worker's app has started."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _port_is_free(host: str, port: int) -> None:
    """Raise OSError if anything listens on the port, even with SO_REUSEPORT (another
    `kb serve --workers`, or workers a killed supervisor left)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _stop_with_parent() -> None:
    """SIGTERM this worker when the supervisor is gone (killed, say): no worker outlives it."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os.kill(os.getpid(), signal.SIGTERM)


def _work(config: uvicorn.Config) -> None:
    """One worker: its own socket on the port, one uvicorn server (in a process of its own)."""
    config.configure_logging()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal: the supervisor stops us
    threading.Thread(target=_stop_with_parent, daemon=True).start()
    try:
        sock = listener(config.host, config.port)
    except (OSError, OverflowError) as error:
        log.error("%s:%s cannot be used: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C reaches every process of the group
        uvicorn.Server(config).run(sockets=[sock])


def serve(config: uvicorn.Config, workers: int) -> None:
    """Run `workers` processes of `config` (an app's import string) until SIGINT, SIGTERM or
    SIGHUP."""
    try:
        _port_is_free(config.host, config.port)
        holder = listener(config.host, config.port)  # the port stays ours between workers
    except (OSError, OverflowError) as error:
        log.error("%s:%s cannot be used: %s", config.host, config.port, error)
        raise SystemExit(STARTUP_FAILURE) from None
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads
    stopping: list[int] = []  # a signal handler may not take a lock the loop holds

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_work, args=(config,), name="kb-worker")
        process.start()
        return process, time.monotonic()

    def stop(signum: int, _: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    running: list[tuple[BaseProcess, float]] = []
    early_deaths = 0
    try:
        running += [start() for _ in range(workers)]
        while not stopping:
            time.sleep(0.5)
            for n, (process, started) in enumerate(running):
                if stopping or process.is_alive():
                    continue
                early = time.monotonic() - started < EARLY_DEATH_SECONDS
                early_deaths = early_deaths + 1 if early else 0
                if process.exitcode == STARTUP_FAILURE or early_deaths >= EARLY_DEATHS:
                    log.error("a worker could not start (exit code %s)", process.exitcode)
                    raise SystemExit(STARTUP_FAILURE)
                log.warning("worker %s ended (exit code %s); starting another",
                            process.pid, process.exitcode)  # fmt: skip
                running[n] = start()
    finally:
        for process, _ in running:
            process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        holder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
