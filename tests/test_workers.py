"""`kb serve --workers N` (kb_search/workers.py): connections spread over every worker, each
without Nagle's delay, and a worker that dies replaced while the others answer."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_search.workers import listener
from tests.pg import free_port


def children(pid: int) -> set[int]:
    """The worker processes of supervisor `pid` (not multiprocessing's resource tracker)."""
    found = set()
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                worker = b"spawn_main" in cmdline.read()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and worker:
            found.add(int(entry.name))
    return found


def sockets_held(pids: set[int], port: int, state: str) -> dict[int, int]:
    """How many sockets on local `port` in `state` (01 established, 0A listening) each of
    `pids` holds (from /proc)."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    held = {}
    for pid in pids:
        links = []
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(FileNotFoundError):  # closed meanwhile
                links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        held[pid] = sum(link.removeprefix("socket:[").rstrip("]") in inodes for link in links)
    return held


def listening(supervisor: int, port: int) -> list[int]:
    """The listening sockets on `port` of each worker (a worker listens once it is ready)."""
    return list(sockets_held(children(supervisor), port, "0A").values())


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is gone too
    except FileNotFoundError:
        return True


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start_two_workers(index_root: Path, tmp_path: Path) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    env = {**os.environ, "KB_INDEX_DIR": str(index_root), "KB_PORT": str(port),
           "KB_LOG_URL": f"sqlite:///{tmp_path / 'querylog.sqlite3'}"}  # fmt: skip
    kb = Path(sys.executable).parent / "kb"
    server = subprocess.Popen([str(kb), "serve", "--workers", "2"], env=env, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not (healthy(port) and listening(server.pid, port) == [1, 1]):
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("kb serve --workers 2 did not start")
        time.sleep(0.2)
    return port, server


@pytest.fixture
def two_workers(index_root: Path, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port, server = start_two_workers(index_root, tmp_path)
    workers = children(server.pid)
    try:
        yield port, server
    finally:
        workers |= children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert all(gone(pid) for pid in workers)  # none left behind


def test_kept_alive_connections_are_spread_over_both_workers(
    two_workers: tuple[int, subprocess.Popen[bytes]],
) -> None:
    """A load balancer keeps a few connections open: each worker must take its share (with
    one shared socket, the worker that woke first took every one and the other idled)."""
    port, server = two_workers
    workers = children(server.pid)
    assert list(sockets_held(workers, port, "0A").values()) == [1, 1]  # a listener each
    kept = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(32)]
    try:
        for connection in kept:
            connection.request("GET", "/healthz")
            assert connection.getresponse().read()
        held = sockets_held(workers, port, "01")
    finally:
        for connection in kept:
            connection.close()
    assert sum(held.values()) == 32 and all(held.values()), held  # 2 in 2**31 by chance


def test_a_worker_that_dies_is_replaced_and_the_other_answers_meanwhile(
    two_workers: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, server = two_workers
    first = children(server.pid)
    killed = min(first)
    os.kill(killed, signal.SIGKILL)
    while os.path.exists(f"/proc/{killed}"):  # until the supervisor has reaped it
        time.sleep(0.05)
    answered = [healthy(port) for _ in range(20)]
    assert all(answered), answered  # connections go to the one left
    deadline = time.monotonic() + 60
    while listening(server.pid, port) != [1, 1]:
        assert time.monotonic() < deadline, "no worker took the dead one's place"
        time.sleep(0.2)
    assert children(server.pid) - first
    answered = [healthy(port) for _ in range(20)]
    assert all(answered), answered


def test_workers_stop_when_their_supervisor_is_killed(index_root: Path, tmp_path: Path) -> None:
    """`kill -9` of the supervisor leaves no worker serving the port (and holding it)."""
    port, server = start_two_workers(index_root, tmp_path)
    workers = children(server.pid)
    server.kill()
    server.wait()
    deadline = time.monotonic() + 40
    while not all(gone(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its supervisor"
        time.sleep(0.2)
    assert not healthy(port)


@pytest.mark.parametrize("shared", [False, True], ids=["another program", "reuse-port"])
def test_the_port_taken_by_another_program_stops_kb_serve_with_a_message(
    index_root: Path, tmp_path: Path, shared: bool
) -> None:
    """Also when the port's listener would share it (another `kb serve --workers`, or the
    workers of a supervisor killed with -9): customers would get two versions at random."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(shared))
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**os.environ, "KB_INDEX_DIR": str(index_root),
               "KB_PORT": str(taken.getsockname()[1])}  # fmt: skip
        kb = Path(sys.executable).parent / "kb"
        done = subprocess.run([str(kb), "serve", "--workers", "2"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 3
    assert "cannot be used" in done.stderr and "Traceback" not in done.stderr


def test_every_connection_a_worker_accepts_has_nagle_off() -> None:
    """Without TCP_NODELAY each answer on a kept-alive connection waited ~40 ms for the
    client's delayed ACK (uvicorn's own workers' socket: Kludex/uvicorn#3149)."""
    sock = listener("127.0.0.1", free_port())
    nodelay: list[int] = []

    class Accepted(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            nodelay.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def connect_once() -> None:
        server = await asyncio.get_running_loop().create_server(Accepted, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname())
            while not nodelay:
                await asyncio.sleep(0.01)
            writer.close()

    # In a thread of its own: a test before may have left this thread's event loop running.
    done = threading.Thread(target=asyncio.run, args=(asyncio.wait_for(connect_once(), 10),))
    done.start()
    done.join(20)
    assert nodelay and nodelay[0] != 0
