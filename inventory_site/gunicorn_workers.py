"""gunicorn's threaded worker with a request time limit that holds.

With `gthread` the worker's main loop tells the arbiter it is alive every second whatever its
threads do, so `timeout` never ends a request that runs too long in a thread (requests ran 39 s,
127 s and 252 s with a 30 s timeout). This worker keeps each request's start, and its main loop
(`notify()`, once a second) ends one that passed `timeout`: first by raising `RequestTimedOut`
in its thread (Python code stops at its next bytecode; the transaction rolls back and the
client gets a 503), then, if the thread is still busy `GRACE_SECONDS` later (stuck in C), by
ending the worker as the arbiter ends a stuck sync worker; the arbiter starts a new one.
"""

import ctypes
import os
import threading
import time

from django.db import connections
from gunicorn.workers.gthread import ThreadWorker

from inventory_site.exceptions import INTERRUPTED_THREADS, RequestTimedOut

GRACE_SECONDS = 5.0


class TimedThreadWorker(ThreadWorker):
    """`gthread`, with `timeout` enforced per request (see the module docstring)."""

    def init_process(self):
        self._running: dict[int, float] = {}  # thread id -> when its request started
        self._interrupted: dict[int, float] = {}
        # Held to raise into a thread and to leave a request: an interruption never outlives its
        # request (it would end the pool's thread instead), and one not yet raised is withdrawn.
        self._requests_lock = threading.Lock()
        super().init_process()

    def handle_request(self, req, conn):
        thread = threading.get_ident()
        self._running[thread] = time.monotonic()
        try:
            return super().handle_request(req, conn)
        finally:
            while True:  # the interruption may arrive in here too: leave the request all the same
                try:
                    with self._requests_lock:
                        self._running.pop(thread, None)
                        interrupted = self._interrupted.pop(thread, None) is not None
                        INTERRUPTED_THREADS.discard(thread)
                        if interrupted:
                            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), None)
                    if interrupted:  # its database connection may have been cut mid-query: a fresh one next
                        connections.close_all()
                    break
                except RequestTimedOut:
                    continue

    def notify(self):
        super().notify()
        with self._requests_lock:
            self._end_overdue_requests()

    def _end_overdue_requests(self) -> None:
        now = time.monotonic()
        for thread, started in list(self._running.items()):
            if now - started <= self.cfg.timeout:  # (self.timeout is half of it: the heartbeat's period)
                continue
            interrupted = self._interrupted.get(thread)
            if interrupted is None:
                self.log.error("request ran %.0fs, past the %ss timeout: interrupted", now - started, self.cfg.timeout)
                self._interrupted[thread] = now
                INTERRUPTED_THREADS.add(thread)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(RequestTimedOut))
            elif now - interrupted > GRACE_SECONDS:
                self.log.critical(
                    "request still running %.0fs after its interruption: worker %s exits",
                    now - interrupted,
                    os.getpid(),
                )
                os._exit(1)
