"""`kb serve --workers N`: N processes answering on one port, each listening on a socket of its
own (SO_REUSEPORT), so that the kernel spreads new connections evenly over them.

uvicorn's own supervisor gives every worker one shared socket, and the worker that wakes first
accepts every connection waiting: under a load balancer's few kept-alive connections one worker
answered all of them at 100 % of a core while the other idled (two workers, 725 searches a
second; one, 1,228). Its socket also left Nagle's algorithm on (Kludex/uvicorn#3149): each
answer on a kept-alive connection waited ~40 ms for the client's delayed ACK.

The supervisor holds the port (bound, never listening, so it is never given a connection),
starts a worker again when one dies, and on SIGINT or SIGTERM stops them all: each answers what
it has and writes the events it holds. Only processes of the same user can join the port.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

log = logging.getLogger("kb_search.workers")
STOP_SECONDS = 30.0  # a worker still running this long after SIGTERM is killed
# A worker that dies this soon after its start, this many times in a row, means it cannot run.
EARLY_DEATH_SECONDS = 5.0
EARLY_DEATHS = 5


def listener(host: str, port: int, listen: bool = True) -> socket.socket:
    """A TCP socket on (host, port) that other processes of this user may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def _work(config: uvicorn.Config) -> None:
    """One worker: its own socket on the port, one uvicorn server (in a process of its own)."""
    config.configure_logging()
    sock = listener(config.host, config.port)
    uvicorn.Server(config).run(sockets=[sock])


def serve(config: uvicorn.Config, workers: int) -> None:
    """Run `workers` processes of `config` (an app's import string) until SIGINT or SIGTERM."""
    try:
        holder = listener(config.host, config.port, listen=False)
    except OSError as error:
        log.error("%s:%s cannot be used: %s", config.host, config.port, error)
        raise SystemExit(3) from None
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads
    stopping = threading.Event()

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_work, args=(config,), name="kb-worker")
        process.start()
        return process, time.monotonic()

    def stop(signum: int, _: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    early_deaths = 0
    try:
        while not stopping.wait(0.5):
            for n, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                early_deaths = (
                    early_deaths + 1 if time.monotonic() - started < EARLY_DEATH_SECONDS else 0
                )
                if early_deaths >= EARLY_DEATHS:
                    log.error("workers keep dying at start (exit code %s)", process.exitcode)
                    raise SystemExit(3)
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
