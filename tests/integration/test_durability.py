"""Faults: kill -9 during a burst of creates loses nothing acknowledged and leaves a sound
database; SIGTERM during a burst answers every request it accepted, completely, and exits 0."""
import http.client
import json
import os
import signal
import sqlite3
import threading
import time
import unittest

import berth_harness as h


def burst(address, token, prefix, count, acknowledged, errors, stop):
    host, port = address.rsplit(":", 1)
    for i in range(count):
        if stop.is_set():
            return
        name = f"{prefix}-{i}"
        body = {"name": name, "quotas": {"vcpus": i % 50 + 1, "memory_mib": 1024 + i, "disk_gib": 7, "vms": 3}}
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("POST", "/v1/projects", body=json.dumps(body),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            conn.close()
            if 200 <= r.status < 300:
                reply = json.loads(raw)  # a 2xx is always a complete JSON object
                assert reply["name"] == name
                acknowledged.append(body)
        except (OSError, http.client.HTTPException) as e:
            errors.append(e)


class DurabilityTest(unittest.TestCase):
    def run_burst(self, berthd, threads=8, per_thread=400):
        acknowledged, errors, stop = [], [], threading.Event()
        workers = [threading.Thread(target=burst, args=(berthd.address, berthd.admin_token, f"t{t}", per_thread,
                                                         acknowledged, errors, stop)) for t in range(threads)]
        for w in workers:
            w.start()
        return workers, acknowledged, errors, stop

    def test_kill_9_mid_burst_loses_no_acknowledged_write(self):
        berthd = h.Berthd(h.NO_LIMITS).start()
        try:
            workers, acknowledged, _, stop = self.run_burst(berthd)
            deadline = time.time() + 20
            while len(acknowledged) < 200 and time.time() < deadline:
                time.sleep(0.01)
            berthd.proc.send_signal(signal.SIGKILL)
            berthd.proc.wait()
            berthd.log.close()
            stop.set()
            for w in workers:
                w.join()
            self.assertGreater(len(acknowledged), 100, "the burst never got going")

            db = sqlite3.connect(os.path.join(berthd.data_dir, "berth.db"))
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            db.close()

            berthd.start()
            admin = berthd.admin()
            for sent in acknowledged:
                got = admin.get(f"/v1/projects/{sent['name']}")
                self.assertEqual(got.status, 200, f"acknowledged {sent['name']} is gone after kill -9")
                self.assertEqual(got.json["quotas"], sent["quotas"])
            # Every stored project has its create event: writes and their audit events are one transaction.
            events = []
            after = None
            while True:
                page = admin.get("/v1/events?limit=1000" + (f"&after={after}" if after else "")).json
                events += page["items"]
                if not page["next"]:
                    break
                after = page["next"]
            created = {e["object"] for e in events if e["action"] == "project.create"}
            projects = []
            after = None
            while True:
                page = admin.get("/v1/projects?limit=1000" + (f"&after={after}" if after else "")).json
                projects += [p["name"] for p in page["items"]]
                if not page["next"]:
                    break
                after = page["next"]
            self.assertEqual(created, {f"projects/{p}" for p in projects})
            self.assertEqual(berthd.stop(), 0)
        finally:
            berthd.close()

    def test_sigterm_mid_burst_finishes_cleanly(self):
        berthd = h.Berthd(h.NO_LIMITS).start()
        try:
            workers, acknowledged, errors, stop = self.run_burst(berthd, threads=8, per_thread=200)
            while len(acknowledged) < 100:
                time.sleep(0.01)
            code = berthd.stop(signal.SIGTERM)
            stop.set()
            for w in workers:
                w.join()
            self.assertEqual(code, 0, berthd.read_log())
            self.assertFalse(os.path.exists(os.path.join(berthd.data_dir, "berthd.addr")))
            # Refused connections after the listener closed are fine; half-answered requests are not.
            for e in errors:
                self.assertNotIsInstance(e, (json.JSONDecodeError, AssertionError))
            berthd.start()
            admin = berthd.admin()
            for sent in acknowledged:
                self.assertEqual(admin.get(f"/v1/projects/{sent['name']}").status, 200)
            berthd.stop()
        finally:
            berthd.close()


if __name__ == "__main__":
    h.main()
