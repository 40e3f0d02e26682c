"""Faults: kill -9 during a burst of creates loses nothing acknowledged and leaves a sound
database; SIGTERM during a burst answers every request it took, completely, and exits 0."""
import http.client
import json
import os
import signal
import sqlite3
import threading
import time
import unittest

import berth_harness as h
import openapi_conformance

THREADS = 8
PER_THREAD = 400


class Outcomes:
    """What each request of a burst got, shared by the burst's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = []   # bodies of creates answered 2xx with the complete object
        self.refused = []        # (status, raw) of complete non-2xx answers
        self.unanswered = []     # no response at all: refused or dropped connection
        self.half_written = []   # a response began but did not arrive whole
        self.nonconforming = []  # whole responses that openapi.json does not allow
        self.crashed = []        # exceptions that are bugs in the test itself

    def add(self, kind, item):
        with self.lock:
            getattr(self, kind).append(item)

    def count(self, kind):
        with self.lock:
            return len(getattr(self, kind))


def create_one(address, token, body, outcomes):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        try:
            conn.request("POST", "/v1/projects", body=json.dumps(body),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
        except (OSError, http.client.RemoteDisconnected) as e:
            # Nothing of a response arrived (RemoteDisconnected: the connection closed before a status line).
            outcomes.add("unanswered", e)
            return
        except http.client.HTTPException as e:
            outcomes.add("half_written", e)  # a status line or headers that broke off
            return
        try:
            raw = r.read()
            headers = {k.lower(): v for k, v in r.getheaders()}
            json.loads(raw)
        except (OSError, http.client.HTTPException, ValueError) as e:
            outcomes.add("half_written", (r.status, e))
            return
        try:
            openapi_conformance.check("POST", "/v1/projects", r.status, headers, raw)
        except AssertionError as e:
            outcomes.add("nonconforming", str(e))
            return
        if 200 <= r.status < 300:
            assert json.loads(raw)["name"] == body["name"], raw
            outcomes.add("acknowledged", body)
        else:
            outcomes.add("refused", (r.status, raw))
    finally:
        conn.close()


def burst(address, token, prefix, outcomes, stop):
    try:
        for i in range(PER_THREAD):
            if stop.is_set():
                return
            # Distinct quotas per project, so "complete" means these values, not the defaults.
            body = {"name": f"{prefix}-{i}",
                    "quotas": {"vcpus": i % 50 + 1, "memory_mib": 1024 + i, "disk_gib": 7 + i % 3, "vms": 3}}
            create_one(address, token, body, outcomes)
    except Exception as e:  # surfaced by the test: an exception in a thread would otherwise only be printed
        outcomes.add("crashed", e)


class DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.berthd = h.Berthd(h.NO_LIMITS)
        self.addCleanup(self.berthd.close)
        self.berthd.start()

    def start_burst(self):
        outcomes, stop = Outcomes(), threading.Event()
        workers = [threading.Thread(target=burst, args=(self.berthd.address, self.berthd.admin_token, f"t{t}",
                                                         outcomes, stop)) for t in range(THREADS)]
        for w in workers:
            w.start()

        def finish():
            stop.set()
            for w in workers:
                w.join(60)
                self.assertFalse(w.is_alive(), "a burst thread hung")
            self.assertEqual(outcomes.crashed, [])
        return outcomes, finish

    def wait_for_acks(self, outcomes, n):
        deadline = time.monotonic() + 30
        while outcomes.count("acknowledged") < n:
            self.assertLess(time.monotonic(), deadline, f"fewer than {n} creates acknowledged in 30 s")
            time.sleep(0.005)

    def assert_all_present(self, acknowledged):
        admin = self.berthd.admin()
        stored = {p["name"]: p for p in admin.list_all("/v1/projects")}
        for sent in acknowledged:
            got = stored.get(sent["name"])
            self.assertIsNotNone(got, f"acknowledged project {sent['name']} is gone")
            self.assertEqual((got["quotas"], got["version"]), (sent["quotas"], 1), f"{sent['name']} is incomplete")
        # Writes and their audit events are one transaction: every stored project has its create event.
        created = {e["object"] for e in admin.list_all("/v1/events") if e["action"] == "project.create"}
        self.assertEqual(created, {f"projects/{name}" for name in stored})

    def integrity_check(self):
        db = sqlite3.connect(os.path.join(self.berthd.data_dir, "berth.db"))
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        finally:
            db.close()

    def test_kill_9_mid_burst_loses_no_acknowledged_write(self):
        outcomes, finish = self.start_burst()
        self.wait_for_acks(outcomes, 200)
        self.assertEqual(self.berthd.stop(signal.SIGKILL), -signal.SIGKILL)
        finish()
        acknowledged = list(outcomes.acknowledged)
        # The kill must land mid-burst, or this tests nothing.
        self.assertLess(len(acknowledged), THREADS * PER_THREAD)
        self.assertTrue(outcomes.unanswered, "no request saw the kill")

        self.integrity_check()
        self.berthd.start()
        self.assert_all_present(acknowledged)
        self.assertEqual(self.berthd.stop(), 0)
        self.integrity_check()

    def test_sigterm_mid_burst_answers_completely_and_exits_0(self):
        outcomes, finish = self.start_burst()
        self.wait_for_acks(outcomes, 100)
        code = self.berthd.stop(signal.SIGTERM)
        finish()
        self.assertEqual(code, 0, self.berthd.read_log())
        self.assertFalse(os.path.exists(os.path.join(self.berthd.data_dir, "berthd.addr")))
        self.assertEqual(outcomes.half_written, [], "SIGTERM cut responses short")
        self.assertEqual(outcomes.nonconforming, [])
        self.assertLess(len(outcomes.acknowledged), THREADS * PER_THREAD, "the burst ended before SIGTERM")
        acknowledged = list(outcomes.acknowledged)

        self.integrity_check()
        self.berthd.start()
        self.assert_all_present(acknowledged)
        self.assertEqual(self.berthd.stop(), 0)


if __name__ == "__main__":
    h.main()
