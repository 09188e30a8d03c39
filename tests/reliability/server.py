"""A real app server for the live suites: gunicorn with the production settings and
`gunicorn.conf.py`, in a subprocess, and a TCP proxy in front of PostgreSQL that a test
can cut and restore (the machine's PostgreSQL itself is shared and never stopped)."""

import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
# Variables of the test run that must not leak into the server's environment.
_SCRUBBED = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "PYTEST_CURRENT_TEST"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production process: DEBUG off, a real secret key."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(
        DJANGO_SETTINGS_MODULE="inventory_site.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def database_url() -> str:
    """The URL of the database this test process uses (the test database), for a server."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def database_address() -> tuple[str, int]:
    """Host and port of the database this test process uses (the embedded server's or
    DATABASE_URL's)."""
    from django.db import connection

    db = connection.settings_dict
    return db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)


def admin_session(server: "AppServer", *, username: str, password: str) -> httpx.Client:
    """A browser-like client logged in to the server's admin (its session and CSRF cookies kept)."""
    browser = httpx.Client(base_url=server.url, timeout=120)
    browser.get("/admin/login/")
    logged_in = browser.post(
        "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], "username": username, "password": password},
        headers={"Referer": server.url + "/admin/login/"},
    )
    assert logged_in.status_code == 302, logged_in.text[:500]
    return browser


class AppServer:
    """`gunicorn inventory_site.wsgi` on a free port; its combined log is kept in a file."""

    def __init__(self, *, database_url: str, workers: int = 2, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = production_env(
            DATABASE_URL=database_url,
            PORT=self.port,
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY=workers,
            **env,
        )
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "AppServer":
        self.process = subprocess.Popen(
            [str(GUNICORN), "inventory_site.wsgi", "-c", str(BASE_DIR / "gunicorn.conf.py")],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            try:
                httpx.get(f"{self.url}/health/", timeout=2)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # quick shutdown: nothing to drain in tests
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        Path(self.log.name).unlink(missing_ok=True)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL. `cut()` closes every connection and refuses
    new ones; `blackhole()` accepts new connections and never answers (a dead network);
    `restore()` forwards again."""

    def __init__(self, target: tuple[str, int] | None = None):
        self.target = target or database_address()
        self.port = free_port()
        self.mode = "down"
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def restore(self) -> None:
        if self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", self.port), backlog=128)
            self._listener.settimeout(0.1)
            thread = threading.Thread(target=self._accept_loop, args=(self._listener,), daemon=True)
            thread.start()
            self._threads.append(thread)
        self.mode = "forward"

    start = restore

    def cut(self) -> None:
        """The database goes away: connections reset, new ones refused."""
        self.mode = "down"
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._close_all()

    def blackhole(self) -> None:
        """Existing connections die; new ones are accepted and then never answered."""
        self.mode = "blackhole"
        if self._listener is None:
            self.restore()
            self.mode = "blackhole"
        self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.add(client)
            if self.mode == "blackhole":
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.add(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 0.5)
                for src in readable:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                try:
                    sock.close()
                except OSError:
                    pass
            with self._lock:
                self._sockets.discard(a)
                self._sockets.discard(b)

    def close(self) -> None:
        self.cut()
