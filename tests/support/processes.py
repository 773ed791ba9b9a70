"""Real processes for end-to-end tests: gunicorn (gevent), dramatiq, and
the embedded launcher, each with its own log file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")
        full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(argv, env=full_env, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if needle in text:
                return text
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.name} never logged {needle!r}:\n{self.log()[-3000:]}")

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signum)

    def stop(self, timeout: float = 15.0) -> int | None:
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(5)
        self._log.close()
        return self.popen.returncode


def wait_http(url: str, timeout: float = 30.0, process: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited:\n{process.log()[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout}s")


def start_gunicorn(env: dict, log_dir: Path, workers: int = 1) -> tuple[Process, str]:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
            "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "web.wsgi:app"]
    process = Process("gunicorn", argv, env, log_dir)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", process=process)
    return process, base


def start_dramatiq(env: dict, log_dir: Path, processes: int = 1, threads: int = 4,
                   queues: list[str] | None = None, name: str = "dramatiq") -> Process:
    argv = [str(BIN / "dramatiq"), "workers.main", "--processes", str(processes), "--threads", str(threads)]
    if queues:
        argv += ["--queues", *queues]
    process = Process(name, argv, env, log_dir)
    process.wait_for_log("is ready for action", timeout=30)
    return process


def start_embedded(env: dict, log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process("embedded", [str(BIN / "herald"), "run"], {**env, "PORT": str(port)}, log_dir)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", process=process)
    return process, base
