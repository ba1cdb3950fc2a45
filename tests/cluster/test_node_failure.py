"""A node killed (SIGKILL to its master and worker at once, as a machine that dies) while people
sign in through HAProxy: only requests the node had already been sent may fail; everything sent
once its sockets are gone is carried by the other nodes: a refused connection is retried and
redispatched whatever the method, a GET the dead node never answered is retried on another, and
the health checks take the node out. Then the node comes back and gets requests again.

A request the dying node took but never answered fails as HAProxy answers it on a kept-alive
client connection: closed without a response (the client may resend, RFC 9112 §9.3.1) and not
logged; a GET is retried on another node instead (retry-on empty-response), a POST never is.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import requests

from tests.cluster.browser import Browser, Step, StepFailed, sign_in

LOOPS = 6  # concurrent sign-in loops (people)
BEFORE_KILL = 4.0  # seconds of load before the kill
AFTER_KILL = 10.0  # and after: longer than HAProxy needs to take the node out (3 checks, 2 s apart)
VICTIM = "idp2"
# HAProxy learns that its idle connections to the dead node were closed from events it handles
# a moment after the kernel closed them: a request sent in that moment may still take one.
GRACE = 0.05
# "... %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc ..." (deploy/haproxy.cfg);
# %rc: retries, "+" when the last one went to another node (redispatch).
RETRIES = re.compile(r"\[(\S+)\] .* \d+/\d+/\d+/\d+/(\+?)(\d+) \d+/\d+ \"[^\"]*\" [A-Z]+ ")


@dataclass
class Outcome:
    steps: list[Step]
    failed: Step | None
    seconds: float


def run_loops(cluster, portal, stop_at: list[float], outcomes: list[Outcome]) -> list[threading.Thread]:
    def loop() -> None:
        while time.monotonic() < stop_at[0]:
            browser = Browser(cluster.url)  # a new person: a new address, new cookies
            started = time.monotonic()
            try:
                sign_in(browser, portal)
                failed = None
            except StepFailed as failure:
                failed = failure.step
            finally:
                browser.session.close()
            outcomes.append(Outcome(browser.steps, failed, time.monotonic() - started))

    threads = [threading.Thread(target=loop) for _ in range(LOOPS)]
    for thread in threads:
        thread.start()
    return threads


def test_a_node_killed_mid_load_fails_only_what_it_had_in_flight(cluster, portal, capsys):
    stop_at, outcomes = [float("inf")], []
    threads = run_loops(cluster, portal, stop_at, outcomes)
    time.sleep(BEFORE_KILL)
    killed_at, killed_clock = time.monotonic(), datetime.now()  # HAProxy logs local time
    cluster.kill(VICTIM)  # returns once the node's port refuses connections
    dead_at = time.monotonic()
    stop_at[0] = killed_at + AFTER_KILL
    for thread in threads:
        thread.join(timeout=AFTER_KILL + 60)
    assert not any(thread.is_alive() for thread in threads)

    failures = [outcome.failed for outcome in outcomes if outcome.failed]
    steps = [step for outcome in outcomes for step in outcome.steps]
    retried = [m for m in map(RETRIES.search, cluster.proxy.log_text().splitlines()) if m and m[3] != "0"]
    last_retry = max((datetime.strptime(m[1], "%d/%b/%Y:%H:%M:%S.%f") for m in retried), default=killed_clock)
    after = [o.seconds for o in outcomes if o.steps[0].started > dead_at and not o.failed]
    with capsys.disabled():
        print(f"\n[cluster] {len(outcomes)} sign-ins ({len(steps)} requests) by {LOOPS} loops over "
              f"{BEFORE_KILL + AFTER_KILL:.0f} s; {VICTIM} SIGKILLed after {BEFORE_KILL:.0f} s, its port "
              f"closed {1000 * (dead_at - killed_at):.0f} ms later; {len(failures)} sign-ins failed "
              f"({', '.join(f'{f.name} {1000 * (f.started - killed_at):+.0f} ms' for f in failures)}); "
              f"{len(retried)} requests retried by HAProxy ({sum(m[2] == '+' for m in retried)} on "
              f"another node), the last {(last_retry - killed_clock).total_seconds():.1f} s after the "
              f"kill; sign-ins started after: median {statistics.median(after):.2f} s, "
              f"max {max(after):.2f} s")

    assert sum(step.node == VICTIM for step in steps if step.started < killed_at) > 0  # it had a share
    # The dead node's refusals were resent elsewhere (and the proxy log is still read right).
    assert any(m[2] == "+" for m in retried), "no request redispatched to another node"
    # Only requests sent while the node still held its sockets failed, at most one per loop.
    assert all(failure.started < dead_at + GRACE for failure in failures), failures
    assert len(failures) <= LOOPS
    assert all(failure.status in (None, 502) for failure in failures), failures
    # Everything sent once it was gone succeeded, on the other nodes.
    sent_after = [step for step in steps if step.started > dead_at + GRACE]
    assert len(sent_after) > 10 * LOOPS
    assert all(step.status is not None and step.status < 500 and step.node != VICTIM
               for step in sent_after), [s for s in sent_after if s.status is None or s.status >= 500]

    # The node comes back: once its health checks pass again, HAProxy sends it requests.
    node = cluster.node(VICTIM)
    cluster.start_node(node)
    cluster.wait_node(node)
    deadline = time.monotonic() + 20
    while requests.get(cluster.url + "/jwks.json", headers={"X-PostID-Node": VICTIM},
                       timeout=10).headers.get("X-PostID-Node") != VICTIM:
        assert time.monotonic() < deadline, f"{VICTIM} not back in HAProxy within 20 s"
        time.sleep(0.5)
