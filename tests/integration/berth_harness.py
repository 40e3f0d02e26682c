"""Runs a real berthd for integration tests and talks to it over HTTP.

Every response the tests receive is checked against the OpenAPI document
(src/controlplane/openapi.json): the status must be documented for that operation and a JSON
body must match its schema. So every test is also a conformance test.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import jsonschema

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OPENAPI_PATH = os.path.join(REPO, "src", "controlplane", "openapi.json")
with open(OPENAPI_PATH) as f:
    OPENAPI = json.load(f)

BERTHD = None  # set by main() from --berthd
BERTH = None   # set by main() from --berth (CLI tests)

# Tests run against a berthd without rate limits unless they test the limits themselves.
NO_LIMITS = ["--rate-limit-token", "0", "--rate-limit-address", "0", "--auth-failure-burst", "100000"]


def _template_regex(template):
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")


_TEMPLATES = [(t, _template_regex(t)) for t in OPENAPI["paths"]]
_RESOLVER = jsonschema.RefResolver.from_schema(OPENAPI)


def check_conformance(method, path, status, content_type, body):
    """Fails (AssertionError) if the response is not what openapi.json promises."""
    bare = path.split("?", 1)[0]
    matches = [t for t, rx in _TEMPLATES if rx.match(bare)]
    if not matches:
        if status == 404:
            return  # unknown endpoints answer 404 with an Error body, checked below
        raise AssertionError(f"{method} {bare}: path not in openapi.json")
    # The most specific template wins (fewest parameters).
    template = min(matches, key=lambda t: t.count("{"))
    op = OPENAPI["paths"][template].get(method.lower())
    if op is None:
        assert status == 405, f"{method} {template} undocumented but answered {status}"
        schema = {"$ref": "#/components/schemas/Error"}
    else:
        response = op["responses"].get(str(status))
        assert response is not None, f"{method} {template}: status {status} is not documented"
        content = response.get("content", {})
        if "application/json" not in content:
            return
        schema = content["application/json"]["schema"]
    if content_type and content_type.startswith("text/event-stream"):
        return
    assert body is not None, f"{method} {template} {status}: expected a JSON body"
    jsonschema.Draft202012Validator(schema, resolver=_RESOLVER).validate(body)


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        is_json = headers.get("content-type", "").startswith("application/json")
        self.json = json.loads(raw) if raw and is_json else None

    def error_code(self):
        return self.json["error"]["code"] if self.json and "error" in self.json else None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Client:
    def __init__(self, address, token=None):
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.token = token

    def request(self, method, path, body=None, headers=None, raw_body=None, check=True,
                content_type="application/json"):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if self.token is not None:
            h.setdefault("Authorization", f"Bearer {self.token}")
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            h.setdefault("Content-Type", content_type)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            raw = r.read()
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, raw)
        finally:
            conn.close()
        if check:
            check_conformance(method, path, resp.status, resp.headers.get("content-type"), resp.json)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Berthd:
    """A berthd process on a loopback port over its own data directory."""

    def __init__(self, extra_args=(), data_dir=None):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="berth-it-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.address = None
        self.log_path = os.path.join(self.data_dir, "berthd.test.log")

    def start(self):
        addr_file = os.path.join(self.data_dir, "berthd.addr")
        if os.path.exists(addr_file):
            os.remove(addr_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BERTHD, "--data", self.data_dir, "--listen", "127.0.0.1:0", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(addr_file):
                with open(addr_file) as f:
                    self.address = f.read().strip()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"berthd exited with {self.proc.returncode}; log:\n{self.read_log()}")
            time.sleep(0.02)
        raise RuntimeError("berthd did not write berthd.addr within 15 s; log:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    @property
    def admin_token(self):
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            return f.read().strip()

    def client(self, token=None):
        return Client(self.address, token)

    def admin(self):
        return self.client(self.admin_token)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            raise AssertionError("berthd did not stop within the timeout")
        finally:
            self.log.close()
        return code

    def close(self):
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        finally:
            if self.owns_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)


class BerthdTestCase(unittest.TestCase):
    """One berthd (without rate limits) per test class."""
    berthd_args = NO_LIMITS

    @classmethod
    def setUpClass(cls):
        cls.berthd = Berthd(cls.berthd_args).start()
        cls.admin = cls.berthd.admin()

    @classmethod
    def tearDownClass(cls):
        cls.berthd.stop()
        cls.berthd.close()

    def last_seq(self):
        seq = 0
        after = None
        # Page to the end: the newest event's seq.
        while True:
            r = self.admin.get("/v1/events?limit=1000" + (f"&after={after}" if after else "")).json
            if r["items"]:
                seq = r["items"][-1]["seq"]
            if not r["next"]:
                return seq
            after = r["next"]

    def assertError(self, resp, status, code, mentions=None):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.error_code(), code, resp)
        if mentions:
            self.assertIn(mentions, resp.json["error"]["message"], resp)


def main():
    global BERTHD, BERTH
    parser = argparse.ArgumentParser()
    parser.add_argument("--berthd", required=True)
    parser.add_argument("--berth")
    args, rest = parser.parse_known_args()
    BERTHD = os.path.abspath(args.berthd)
    BERTH = os.path.abspath(args.berth) if args.berth else None
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
