"""Runs a real berthd for integration tests and talks to it over HTTP.

Every response a test receives through Client is checked by openapi_conformance.check(), so
every test is also a conformance test against src/controlplane/openapi.json.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import openapi_conformance

OPENAPI = openapi_conformance.OPENAPI
OPENAPI_PATH = openapi_conformance.OPENAPI_PATH

BERTHD = None  # set by main() from --berthd
BERTH = None   # set by main() from --berth (CLI tests)

# Tests run against a berthd without rate limits unless they test the limits themselves.
NO_LIMITS = ["--rate-limit-token", "0", "--rate-limit-address", "0", "--auth-failure-burst", "100000"]

STARTUP_SECONDS = 15


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # lower-case names
        self.raw = raw
        is_json = headers.get("content-type", "").startswith("application/json")
        self.json = json.loads(raw) if raw and is_json else None

    def error_code(self):
        return self.json["error"]["code"] if self.json and "error" in self.json else None

    def error_message(self):
        return self.json["error"]["message"] if self.json and "error" in self.json else None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Client:
    """One HTTP/1.1 connection per request, as a CLI would; bearer token optional."""

    def __init__(self, address, token=None, source=None):
        self.address = address
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.token = token
        self.source = (source, 0) if source else None  # another loopback address, e.g. 127.0.0.2

    def request(self, method, path, body=None, headers=None, raw_body=None, content_type="application/json"):
        h = dict(headers or {})
        if self.token is not None:
            h.setdefault("Authorization", f"Bearer {self.token}")
        data = json.dumps(body).encode() if body is not None else raw_body
        if data is not None and content_type:
            h.setdefault("Content-Type", content_type)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=self.source)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            raw = r.read()
            headers_lc = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        openapi_conformance.check(method, path, r.status, headers_lc, raw)
        return Response(r.status, headers_lc, raw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def list_all(self, path, limit=1000):
        """Every item of a paged list, following next to the end."""
        items, after = [], None
        sep = "&" if "?" in path else "?"
        while True:
            r = self.get(f"{path}{sep}limit={limit}" + (f"&after={after}" if after else ""))
            assert r.status == 200, f"GET {path}: {r}"
            items += r.json["items"]
            if r.json["next"] is None:
                return items
            after = r.json["next"]


class Berthd:
    """A berthd process on a loopback port over a data directory (its own temp dir unless given)."""

    def __init__(self, extra_args=(), data_dir=None, listen="127.0.0.1:0"):
        self.owns_dir = data_dir is None
        self.listen = listen
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="berth-it-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.log = None
        self.address = None
        self.log_path = os.path.join(self.data_dir, "berthd.test.log")

    def start(self):
        addr_file = os.path.join(self.data_dir, "berthd.addr")
        if os.path.exists(addr_file):
            os.remove(addr_file)  # left by a killed predecessor; wait for this process's own
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BERTHD, "--data", self.data_dir, "--listen", self.listen, *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            # berthd writes the file atomically, so a present file is complete.
            if os.path.exists(addr_file):
                with open(addr_file) as f:
                    self.address = f.read().strip()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"berthd exited with {self.proc.returncode}; log:\n{self.read_log()}")
            time.sleep(0.02)
        raise RuntimeError(f"berthd wrote no berthd.addr within {STARTUP_SECONDS} s; log:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    @property
    def admin_token(self):
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            return f.read().strip()

    def client(self, token=None, source=None):
        return Client(self.address, token, source)

    def admin(self):
        return self.client(self.admin_token)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals berthd and waits for it; returns its exit code (negative: killed by a signal)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"berthd did not exit within {timeout} s of signal {sig}") from None
        finally:
            self.log.close()

    def close(self):
        """Kills berthd if it still runs and removes the data directory it owns. Safe to call twice."""
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.log:
                self.log.close()
        finally:
            if self.owns_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)


class BerthdTestCase(unittest.TestCase):
    """One berthd (without rate limits unless berthd_args says otherwise) per test class."""
    berthd_args = NO_LIMITS
    berthd_listen = "127.0.0.1:0"

    @classmethod
    def setUpClass(cls):
        cls.berthd = Berthd(cls.berthd_args, listen=cls.berthd_listen)
        # Registered before start() so a berthd that fails to start still loses its temp dir.
        cls.addClassCleanup(cls.berthd.close)
        cls.berthd.start()
        cls.admin = cls.berthd.admin()

    @classmethod
    def tearDownClass(cls):
        code = cls.berthd.stop()
        assert code == 0, f"berthd exited with {code} on SIGTERM; log:\n{cls.berthd.read_log()}"

    def client(self, token=None, source=None):
        return self.berthd.client(token, source)

    @classmethod
    def register_node(cls, name, address=None, memory_mib=8192):
        """A node token and the node registered with it (with its underlay address, if given);
        returns the node's client."""
        node = cls.berthd.client(cls.admin.post("/v1/tokens", {"name": name, "role": "node"}).json["token"])
        body = {"name": name, "capacity": {"vcpus": 8, "memory_mib": memory_mib, "disk_gib": 100}}
        if address is not None:
            body["address"] = address
        r = node.post("/v1/nodes", body)
        assert r.status == 200, r
        return node

    @classmethod
    def wait_placed(cls, project, vm, node, seconds=20):
        """Waits until the scheduler has placed the VM on the node."""
        deadline = time.monotonic() + seconds
        while cls.admin.get(f"/v1/projects/{project}/vms/{vm}").json["node"] != node:
            assert time.monotonic() < deadline, "the scheduler did not place the VM"
            time.sleep(0.1)

    def last_seq(self):
        """The newest event's sequence number (0 if none)."""
        # Events are only ever appended, so reading on from the last answer finds the newest.
        cls = type(self)
        events = self.events_after(getattr(cls, "_seq_cursor", 0))
        if events:
            cls._seq_cursor = events[-1]["seq"]
        return getattr(cls, "_seq_cursor", 0)

    def events_after(self, seq):
        return self.admin.list_all(f"/v1/events?after={seq}")

    def assertError(self, resp, status, code, mentions=None):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.error_code(), code, resp)
        if mentions:
            self.assertIn(mentions, resp.error_message(), resp)


def main():
    global BERTHD, BERTH
    parser = argparse.ArgumentParser()
    parser.add_argument("--berthd", required=True)
    parser.add_argument("--berth")
    args, rest = parser.parse_known_args()
    BERTHD = os.path.abspath(args.berthd)
    BERTH = os.path.abspath(args.berth) if args.berth else None
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
