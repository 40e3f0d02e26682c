"""Health-gated rollouts end to end, in a real VM: a release with a health check starts beside
the serving one (on the other port slot, $(PORT)) and takes the traffic only once healthy; one
that never becomes healthy is stopped, the deploy exits non-zero with the reason and the
instance's last log lines, and berthd rolls the app back, while the old release answers every
request throughout. `berth rollback --to` then serves the earlier content again."""
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402
from test_vms import BOOT_SECONDS, ClientThreads, Poller, VmTestBase, fetch, free_port  # noqa: E402

HEALTH = ("--health-interval", "1s", "--health-timeout", "1s", "--health-grace", "2s", "--health-retries", "2")


def server(banner):
    # $(PORT) is expanded by berth-init: the instance's own port, 8080 or 18080.
    return ("busybox", "sh", "-c", f"echo {banner} booting on $(PORT); exec busybox httpd -f -v -p $(PORT)")


class SlowClients(ClientThreads):
    """Clients that keep a slow page (0.4 s of CGI) in flight, so that a rollout always has
    requests open on the old instance when it switches; every one must complete."""

    def __init__(self, port, count=3):
        super().__init__(count, 0)
        self.port = port

    def request(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/cgi-bin/slow", timeout=10) as r:
            return None if r.read() == b"slow done\n" else "wrong answer"


class RolloutTest(VmTestBase):
    def site(self, text):
        d = super().site(text)
        os.makedirs(os.path.join(d, "cgi-bin"))
        slow = os.path.join(d, "cgi-bin", "slow")
        with open(slow, "w") as f:
            f.write("#!/bin/sh\nsleep 0.4\nprintf 'Content-Type: text/plain\\r\\n\\r\\nslow done\\n'\n")
        os.chmod(slow, 0o755)
        return d

    def release(self, number):
        items = self.admin.get("/v1/projects/e2e-roll/apps/web/releases?limit=100").json["items"]
        return next(r for r in items if r["number"] == number)

    def test_rollouts_are_health_gated_and_failures_roll_back(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-roll"}).status, 201)
        port = free_port()
        self.deploy("e2e-roll", "web", "<p>v1</p>", port, "--health-http", "/index.html", *HEALTH,
                    command=server("v1"))
        self.assertEqual(fetch(port), "<p>v1</p>")

        # v2 is healthy: it starts beside v1 and takes over with no request lost, not even the
        # slow ones in flight on v1 at the switch (v1 is drained before it stops).
        with Poller(port, ("<p>v1</p>", "<p>v2</p>"), interval=0.05) as poller, SlowClients(port) as slow:
            self.deploy("e2e-roll", "web", "<p>v2</p>", port, "--health-http", "/index.html", *HEALTH,
                        command=server("v2"))
            time.sleep(1)
        self.assertEqual(poller.failures, [], "requests failed while v2 took over")
        self.assertEqual(slow.failures, [], "requests in flight on v1 were cut")
        self.assertGreater(poller.answers, 5)
        self.assertGreater(slow.answers, 3)
        self.assertEqual(fetch(port), "<p>v2</p>")
        console = self.serial_log("e2e-roll", "default")
        self.assertIn("app web started", console)
        self.assertIn("instance web-2", console)
        # v1 stopped only after v2 was healthy.
        self.assertLess(console.index("app web-2 is healthy"), console.index("(signal 15, instance web-1)"), console)

        # v3 never becomes healthy (its check asks for a page it does not have).
        with Poller(port, ("<p>v2</p>",), interval=0.05) as poller:
            code, out, err = self.berth("deploy", "web", "--project", "e2e-roll", "--dir", self.site("<p>v3</p>"),
                                        "--port", "8080", "--host-port", str(port), "--health-http", "/ready",
                                        *HEALTH, "--", *server("v3"))
        self.assertEqual(code, 1, out)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("release 3 of web failed: release 3 health check failed", err)
        self.assertIn("answered HTTP 404", err)
        self.assertIn("rolled back to release 2 (as release 4)", err)
        self.assertIn("  | v3 booting on 8080", out)  # the failing instance's last log lines (v2 holds 18080)
        self.assertEqual(poller.failures, [], "v2 stopped answering while v3 was tried")
        self.assertGreater(poller.answers, 5)
        self.assertEqual(fetch(port), "<p>v2</p>")
        self.assertEqual(self.release(3)["state"], "failed")
        rollback = self.release(4)
        self.assertEqual((rollback["rollback_of"], rollback["automatic"]), (2, True))
        self.wait_for(lambda: self.release(4)["state"] == "running", "the rollback release to be running")
        app = self.admin.get("/v1/projects/e2e-roll/apps/web").json
        self.assertEqual((app["release"], app["status"]["state"]), (4, "running"))
        # The rollback took over the instance still serving: v2 was never restarted.
        self.assertEqual(self.serial_log("e2e-roll", "default").count("instance web-2)"), 1)
        code, out, err = self.berth("releases", "web", "--project", "e2e-roll")
        self.assertEqual(code, 0, err)
        self.assertIn("running, rollback of 2 (automatic)", out)
        self.assertIn("failed", out)

        # A rollback to release 1 serves the earlier content, again health-gated.
        with Poller(port, ("<p>v1</p>", "<p>v2</p>"), interval=0.05) as poller:
            code, out, err = self.berth("rollback", "web", "--project", "e2e-roll", "--to", "1")
            self.assertEqual(code, 0, err)
            self.wait_for(lambda: fetch(port) == "<p>v1</p>", "release 1's page after the rollback")
        self.assertEqual(poller.failures, [], "requests failed during the rollback")
        self.wait_for(lambda: self.release(5)["state"] == "running", "release 5 to be running")


if __name__ == "__main__":
    h.main()
