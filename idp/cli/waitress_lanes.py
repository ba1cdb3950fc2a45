"""Two lanes for a worker's threads, so that password hashing cannot starve the protocol endpoints.

A sign-in, a registration or a password change hashes with argon2id at production parameters:
tens of milliseconds of a core per request. With one queue, a burst of sign-ins takes every
thread of a worker and the portals' token, userinfo and introspection calls wait behind them
(measured: userinfo fell from 1,111 to 28 req/s, p99 936 ms, while logins ran; bench/README.md).

Here a form submission (a POST, PUT, PATCH or DELETE to any path outside the protocol
endpoints: the requests that may hash) runs on at most `form_threads` of the worker's threads
at once; the others wait in their own queue, in order. Every other request (page views, the
protocol endpoints, the consent forms of the authorization flow) may run on any thread, so at
least `threads - form_threads` threads are always free for it. Sign-in throughput is bound by
the CPU either way: fewer threads hashing at once costs it nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Flask
from waitress.task import ThreadedTaskDispatcher

# Blueprints whose routes are the protocol endpoints (idp.web.oidc): none of them hashes.
PROTOCOL_BLUEPRINTS = frozenset({"oidc", "oidc_logout"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def form_threads_for(threads: int) -> int:
    """Half the threads, at least one: the other half stays free for the protocol endpoints."""
    return max(1, threads // 2)


def form_submission_predicate(app: Flask) -> Callable[[str, str], bool]:
    """(method, path) -> whether the request is a form submission outside the protocol."""
    protocol = frozenset(rule.rule for rule in app.url_map.iter_rules()
                         if rule.endpoint.partition(".")[0] in PROTOCOL_BLUEPRINTS)

    def is_form_submission(method: str, path: str) -> bool:
        return method not in READ_METHODS and path not in protocol

    return is_form_submission


class LanedTaskDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool with a bounded lane for form submissions (see the module doc).

    A task is a channel whose first queued request is the one to run next (waitress queues the
    channel again for each pipelined request), so each request is classified on its own.
    """

    def __init__(self, is_form_submission: Callable[[str, str], bool], form_threads: int):
        super().__init__()
        self.is_form_submission = is_form_submission
        self.form_threads = form_threads
        self.forms: deque[Any] = deque()
        self.forms_running = 0

    def _classify(self, task: Any) -> bool:
        requests = getattr(task, "requests", None)
        if not requests:
            return False
        request = requests[0]
        return self.is_form_submission(request.command or "", request.path or "")

    def _form_slot_free(self) -> bool:
        return bool(self.forms) and self.forms_running < self.form_threads

    def add_task(self, task: Any) -> None:
        is_form = self._classify(task)
        with self.lock:
            (self.forms if is_form else self.queue).append(task)
            if not is_form or self.forms_running < self.form_threads:
                self.queue_cv.notify()
            waiting = len(self.queue) + len(self.forms)
            idle_threads = len(self.threads) - self.stop_count - self.active_count
            if waiting > idle_threads:
                self.queue_logger.warning("Task queue depth is %d", waiting - idle_threads)

    def handler_thread(self, thread_no: int) -> None:
        while True:
            with self.lock:
                while not (self.queue or self._form_slot_free()) and self.stop_count == 0:
                    # Idle while waiting, as in waitress: the queue-depth warning counts on it.
                    self.active_count -= 1
                    self.queue_cv.wait()
                    self.active_count += 1
                if self.stop_count > 0:
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    break
                # A free form slot is taken first: the lane is bounded, so the other requests
                # still have their threads, and form submissions are never starved by them.
                is_form = self._form_slot_free()
                if is_form:
                    self.forms_running += 1
                    task = self.forms.popleft()
                else:
                    task = self.queue.popleft()
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                if is_form:
                    with self.lock:
                        self.forms_running -= 1
                        if self.forms:
                            self.queue_cv.notify()

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        if cancel_pending:
            with self.lock:
                while self.forms:
                    self.forms.popleft().cancel()
        return bool(super().shutdown(cancel_pending=cancel_pending, timeout=timeout))
