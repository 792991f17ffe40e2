"""
The real engine for tests: a Worker (the repository's, or a test Worker of its own) served by `wrangler dev` in
workerd on free ports, with its state in a temporary directory.

    with start_engine("wrangler.toml", api_token="t", worker_token="w") as engine:
        ... engine.url, engine.api_token, engine.worker_token ...

The Worker is bundled once, before it starts (`wrangler deploy --dry-run`), and served from that bundle
(`--no-bundle`), so an edit to the sources during a run neither reloads the server under a test nor changes what it
runs. wrangler and workerd run as one process group led by a small shell that kills the group when the test process is
gone, so a run that dies (or is killed) never leaves workerd behind; leaving the context kills the group at once. As
test/chaos/server.ts does for the chaos suite, in Node.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"
MIN_NODE_MAJOR = 22
READY_DEADLINE_SECONDS = 90.0
BUNDLE_DEADLINE_SECONDS = 90.0
PORT_TRIES = 3

# Runs the command in "$@" while the test process ($1) lives; when either ends, the whole group goes.
WATCHDOG = """driver=$1; shift; "$@" & server=$!
while kill -0 "$driver" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
kill -9 0"""


class EngineStartError(RuntimeError):
    """The engine could not be started: no suitable Node, a Worker that does not build, or a server that never answered."""


@dataclass(frozen=True)
class Engine:
    """A running engine: its origin and the two tokens it was started with."""

    url: str
    api_token: str
    worker_token: str
    # wrangler's output, for a test that wants to show it when something fails.
    log: Path


def _environment() -> dict[str, str]:
    # No network here: without CLOUDFLARE_CF_FETCH_ENABLED=false each start tries to fetch Request.cf's data and warns.
    return {**os.environ, "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_CF_FETCH_ENABLED": "false"}


def _node() -> str:
    """The `node` on PATH, if it is new enough for wrangler: `npm run test:python` puts the node@22 dev dependency first."""
    node = shutil.which("node")
    if node is None:
        raise EngineStartError("No `node` on PATH: run the Python tests through `npm run test:python`, which puts Node 22 (the node@22 dev dependency) on it.")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        raise EngineStartError(
            f"wrangler needs Node {MIN_NODE_MAJOR} or newer, and the `node` on PATH ({node}) is {version or 'unknown'}: run the Python "
            "tests through `npm run test:python`, which puts the node@22 dev dependency first on PATH, or put Node 22 first yourself."
        )
    return node


def _listenable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """
    A port nothing listens on, below the range the kernel hands out to outgoing connections (a test opens many), so
    no connection takes it between this check and wrangler binding it.
    """
    below = 32768
    try:
        below = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) or below
    except (OSError, ValueError, IndexError):
        pass  # Not Linux: the usual bound.
    for _ in range(100):
        port = random.randrange(10_000, below)
        if _listenable(port):
            return port
    raise EngineStartError(f"No free port found between 10000 and {below}.")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _bundle(node: str, config: Path, directory: Path) -> Path:
    """The Worker as the one module the server serves."""
    log = directory / "bundle.log"
    outdir = directory / "bundle"
    with log.open("w") as out:
        built = subprocess.run(
            [node, str(WRANGLER), "deploy", "--dry-run", "--outdir", str(outdir), "--config", str(config)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_environment(), timeout=BUNDLE_DEADLINE_SECONDS,
        )
    if built.returncode != 0:
        raise EngineStartError(f"Bundling {config} failed (exit {built.returncode}):\n{_tail(log)}")
    return outdir / "worker.js"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # Already gone.
    process.wait(timeout=30)


def _answers(url: str, api_token: str) -> bool:
    try:
        response = httpx.get(f"{url}/api/workflows", headers={"authorization": f"Bearer {api_token}"}, timeout=5)
    except httpx.HTTPError:
        return False  # Not listening yet.
    return response.status_code == 200


def _launch(node: str, script: Path, config: Path, directory: Path, vars: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """wrangler dev on fresh ports, once it answers; None when its port was taken before it could bind it."""
    port, inspector_port = _free_port(), _free_port()
    arguments = [str(script), "--no-bundle", "--config", str(config), "--ip", "127.0.0.1", "--port", str(port), "--inspector-port", str(inspector_port)]
    arguments += ["--persist-to", str(directory / "state"), "--show-interactive-dev-session=false", "--log-level", "warn"]
    for name, value in vars.items():
        arguments += ["--var", f"{name}:{value}"]
    with log.open("w") as out:
        process = subprocess.Popen(
            ["sh", "-c", WATCHDOG, "engine-watchdog", str(os.getpid()), node, str(WRANGLER), "dev", *arguments],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_environment(), start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    try:
        while not _answers(url, vars["API_TOKEN"]):
            if process.poll() is not None:
                if "Address already in use" in _tail(log):
                    return None
                raise EngineStartError(f"wrangler dev exited before answering; its log ({log}):\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise EngineStartError(f"wrangler dev did not answer within {READY_DEADLINE_SECONDS:g} s; its log ({log}):\n{_tail(log)}")
            time.sleep(0.05)  # a poll's interval, with the deadline above as the bound
    except BaseException:
        _kill_group(process)
        raise
    return process, url


class EngineProcess:
    """
    The Worker of a wrangler config under `wrangler dev` over one state directory: bundled once, started, killed
    (kill -9 of its process group, workerd included) and started again over the same state, on a new port each start.
    """

    def __init__(self, config: str | Path, directory: Path, *, api_token: str, worker_token: str) -> None:
        self._node = _node()
        self._config = Path(config) if Path(config).is_absolute() else ROOT / config
        self._directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._script = _bundle(self._node, self._config, directory)
        self._tokens = (api_token, worker_token)
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self.url = ""

    def start(self) -> Engine:
        self._starts += 1
        log = self._directory / f"wrangler-{self._starts}.log"
        api_token, worker_token = self._tokens
        for _ in range(PORT_TRIES):
            launched = _launch(self._node, self._script, self._config, self._directory, {"API_TOKEN": api_token, "PYTHON_WORKER_TOKEN": worker_token}, log)
            if launched is not None:
                self._process, self.url = launched
                return Engine(url=self.url, api_token=api_token, worker_token=worker_token, log=log)
        raise EngineStartError(f"wrangler dev found its port taken {PORT_TRIES} times; its log:\n{_tail(log)}")

    def kill(self) -> None:
        if self._process is not None:
            _kill_group(self._process)


@contextmanager
def start_engine(config: str, *, api_token: str, worker_token: str) -> Iterator[Engine]:
    """
    The Worker of `config` (a wrangler config, relative to the repository's root or absolute) served in workerd with
    API_TOKEN and PYTHON_WORKER_TOKEN set, until the context ends: then its process group is killed and its state
    removed.
    """
    directory = Path(tempfile.mkdtemp(prefix="durable-machines-engine-"))
    try:
        engine = EngineProcess(config, directory, api_token=api_token, worker_token=worker_token)
        try:
            yield engine.start()
        finally:
            engine.kill()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
