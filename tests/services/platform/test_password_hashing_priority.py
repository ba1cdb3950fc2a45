"""argon2id runs on threads of lower scheduling priority than the requests, so that hashing
yields the CPU to them (idp.services.platform.passwords)."""

from __future__ import annotations

import os
import threading

import pytest

from idp.services.platform import passwords


def nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_hashing_runs_at_a_lower_priority_than_the_request(app):
    request_nice = nice_of_this_thread()
    hashing_nice = passwords._hashed(lambda: nice_of_this_thread())
    assert hashing_nice == min(19, request_nice + passwords.HASHING_NICE)
    assert nice_of_this_thread() == request_nice  # the request's own thread is untouched


def test_hash_and_verify_still_agree_through_the_hashing_threads(app):
    with app.app_context():
        stored = passwords.hash_password("Mật khẩu đủ dài 2026")
        assert passwords.verify_password(stored, "Mật khẩu đủ dài 2026")
        assert not passwords.verify_password(stored, "Mật khẩu khác 2026")
        assert not passwords.verify_password("not a hash", "Mật khẩu đủ dài 2026")


def test_a_forked_process_gets_threads_of_its_own(app, monkeypatch):
    passwords._hashed(lambda: None)
    first = passwords._hashing_pool()
    monkeypatch.setattr(passwords.os, "getpid", lambda: -1)  # as seen from a forked worker
    second = passwords._hashing_pool()
    assert second is not first
    assert passwords._hashed(lambda: 7) == 7


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_hashing_works_in_a_child_forked_after_first_use(app):
    with app.app_context():
        stored = passwords.hash_password("trước khi fork 2026")
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        with app.app_context():
            ok = passwords.verify_password(stored, "trước khi fork 2026")
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
