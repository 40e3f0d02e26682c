"""Domains through the ingress end to end (docs/networking.md, "Ingress"): a real VM serves an app,
`berth domain add` routes a name to it through the Caddy the agent starts and drives over its
admin API, HTTPS answers with a certificate of the ingress's own CA (exported by `berth domain
ca`), plain HTTP redirects to HTTPS, a health-gated rollout behind the domain loses no request
(not even slow ones in flight on the old instance), and a removed domain is served no more.
Runs on the network mode given as --network (bridged: the ingress dials the guest's address;
user: a hostfwd on 127.0.0.1)."""
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402
from test_rollouts import HEALTH, server  # noqa: E402
from test_vms import ClientThreads, VmTestBase, free_port, qemu_pids, take_network_mode  # noqa: E402

MODE = "bridged"
HTTP_PORT, HTTPS_PORT = free_port(), free_port()
DOMAIN = "shop.e2e-domains.test"


def https_get(host, path, cafile, timeout=10):
    """GET https://host:HTTPS_PORT/path from 127.0.0.1, verifying the certificate for `host`
    against `cafile`. Returns (status, body)."""
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded = b""
        while body:
            size, _, rest = body.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            decoded, body = decoded + rest[:n], rest[n + 2:]
        body = decoded
    return status, body.decode()


def http_head(host, path):
    with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5) as s:
        s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode()


class HttpsClients(ClientThreads):
    """Clients fetching `path` from the domain over HTTPS; every answer must be 200 with one of
    `pages`."""

    def __init__(self, cafile, path, pages, count=2, interval=0.05):
        super().__init__(count, interval)
        self.cafile, self.path, self.pages = cafile, path, pages

    def request(self):
        status, body = https_get(DOMAIN, self.path, self.cafile)
        return None if status == 200 and body in self.pages else f"HTTP {status} {body!r}"


class DomainTest(VmTestBase):
    @classmethod
    def kill_vms(cls):
        # The ingress outlives berthd like the published ports' proxies do.
        for pid in qemu_pids(cls.berthd.data_dir, "caddy"):
            os.kill(pid, 9)
        super().kill_vms()

    def caddy_log(self):
        with open(os.path.join(self.berthd.data_dir, "agent", "ingress", "caddy.log"), errors="replace") as f:
            return f.read()[-4000:]

    def site(self, text):
        d = super().site(text)
        os.makedirs(os.path.join(d, "cgi-bin"))
        slow = os.path.join(d, "cgi-bin", "slow")
        with open(slow, "w") as f:
            f.write(f"#!/bin/sh\nsleep 0.4\nprintf 'Content-Type: text/plain\\r\\n\\r\\n{text} slow\\n'\n")
        os.chmod(slow, 0o755)
        return d

    def deploy_web(self, text):
        return self.deploy("e2e-dom", "web", text, self.host_port, "--health-http", "/index.html", *HEALTH,
                           command=server(text))

    def test_a_domain_serves_https_through_the_ingress_and_survives_a_rollout(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-dom"}).status, 201)
        self.host_port = free_port()
        self.deploy_web("v1")

        code, out, err = self.berth("domain", "add", DOMAIN, "--app", "web", "--project", "e2e-dom")
        self.assertEqual(code, 0, err)
        # The agent starts Caddy with the first domain, and registers its CA once it exists.
        cafile = os.path.join(self.home, "ca.pem")

        def ca_exported():
            code, out, _ = self.berth("domain", "ca")
            if code != 0 or "BEGIN CERTIFICATE" not in out:
                return False
            with open(cafile, "w") as f:
                f.write(out)
            return True

        self.wait_for(ca_exported, "the ingress's CA", timeout=60)
        started = time.monotonic()
        self.wait_for(lambda: https_get(DOMAIN, "/index.html", cafile) == (200, "v1"), "HTTPS from the domain",
                      timeout=60)
        print(f"first HTTPS answer {time.monotonic() - started:.2f} s after the CA was exported", file=sys.stderr)

        # Plain HTTP is redirected to HTTPS on the ingress's port.
        head = http_head(DOMAIN, "/a?b=c")
        self.assertIn(" 308 ", head.splitlines()[0], head)
        self.assertIn(f"Location: https://{DOMAIN}:{HTTPS_PORT}/a?b=c", head)
        # A name no app has gets no certificate, so no TLS session at all.
        with self.assertRaises(ssl.SSLError):
            https_get("other.e2e-domains.test", "/", cafile)

        # v2 is healthy: it takes over behind the domain with no request lost, not even the slow
        # ones in flight on v1 when the ingress switches (v1 drains before it stops).
        with HttpsClients(cafile, "/index.html", ("v1", "v2")) as fast, \
                HttpsClients(cafile, "/cgi-bin/slow", ("v1 slow\n", "v2 slow\n"), count=3, interval=0) as slow:
            out = self.deploy_web("v2")
            self.wait_for(lambda: https_get(DOMAIN, "/index.html", cafile) == (200, "v2"), "v2 behind the domain")
            time.sleep(1)
        # The deploy ends with where the app answers.
        self.assertIn(f"https://{DOMAIN}:{HTTPS_PORT}", out)
        self.assertEqual(fast.failures, [], "requests through the ingress failed while v2 took over; Caddy's log:\n" +
                         self.caddy_log() + "\nberthd's log:\n" + self.berthd.read_log()[-5000:])
        self.assertEqual(slow.failures, [], "requests in flight on v1 through the ingress were cut")
        self.assertGreater(fast.answers, 5)
        self.assertGreater(slow.answers, 3)
        console = self.serial_log("e2e-dom", "default")
        self.assertLess(console.index("app web-2 is healthy"), console.index("(signal 15, instance web-1)"), console)

        # Removed, the name is served no more.
        code, out, err = self.berth("domain", "rm", DOMAIN, "--project", "e2e-dom")
        self.assertEqual(code, 0, err)

        def gone():
            try:
                https_get(DOMAIN, "/index.html", cafile, timeout=3)
                return False
            except (ssl.SSLError, ConnectionError, OSError):
                return True

        self.wait_for(gone, "the removed domain to be served no more", timeout=30)


if __name__ == "__main__":
    MODE = take_network_mode(MODE)
    DomainTest.berthd_args = h.NO_LIMITS + ["--dev", "--network", MODE, "--ingress", "caddy",
                                            "--ingress-http-port", str(HTTP_PORT),
                                            "--ingress-https-port", str(HTTPS_PORT)]
    h.main()
