"""Replicas end to end: an app with two replicas in a project without VMs gets two new VMs, an
instance in each, and one published port that spreads requests over both. Killing one
instance's process takes it out of the rotation at once (its guest says so), init restarts it
with backoff, and the app answers through the other throughout. Logs merge both instances,
each line prefixed with its VM; --instance picks one for logs and exec."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402
from test_vms import BOOT_SECONDS, Poller, VmTestBase, fetch, free_port  # noqa: E402

# The page says which VM answered; the pid file lets the test kill exactly the app's process.
# berth-init expands $(PORT) and turns $$ into $, so the shell's own $$ is written $$$$.
SERVER = ("mkdir -p /tmp/www && hostname > /tmp/www/index.html && echo $$$$ > /tmp/app.pid && "
          "echo serving on $(PORT) && exec busybox httpd -f -v -p $(PORT) -h /tmp/www")


class ReplicaTest(VmTestBase):
    def app(self):
        return self.admin.get("/v1/projects/e2e-rep/apps/web").json

    def test_replicas_spread_over_vms_and_survive_a_killed_instance(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-rep"}).status, 201)
        port = free_port()
        r = self.admin.post("/v1/projects/e2e-rep/apps", {
            "name": "web", "command": ["busybox", "sh", "-c", SERVER], "replicas": 2,
            "ports": [{"port": 8080, "host_port": port}],
            "health": {"type": "http", "path": "/", "interval_ms": 1000, "timeout_ms": 1000, "grace_ms": 2000,
                       "retries": 2}})
        self.assertEqual(r.status, 201, r)
        vms = sorted(vm["name"] for vm in self.admin.list_all("/v1/projects/e2e-rep/vms"))
        self.assertEqual(vms, ["web-1", "web-2"])
        try:
            self.wait_for(lambda: self.app()["status"]["state"] == "running", "both instances to run",
                          timeout=BOOT_SECONDS + 60)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.app()}\nberthd log:\n{self.berthd.read_log()[-3000:]}") from None
        instances = self.app()["status"]["instances"]
        self.assertEqual([(i["vm"], i["state"]) for i in instances], [("web-1", "running"), ("web-2", "running")])

        pages = {fetch(port) for _ in range(6)}
        self.assertEqual(pages, {"web-1\n", "web-2\n"}, "requests go round-robin to both instances")

        with Poller(port, ("web-1\n", "web-2\n"), interval=0.05) as poller:
            code, out, err = self.berth("exec", "web", "-p", "e2e-rep", "--instance", "web-1", "--",
                                        "busybox", "sh", "-c", "kill -9 $(cat /tmp/app.pid)")
            self.assertEqual(code, 0, err)
            console = lambda: self.serial_log("e2e-rep", "web-1")  # noqa: E731
            self.wait_for(lambda: console().count("app web started") >= 2, "init to restart the killed instance")
            self.wait_for(lambda: "web-1\n" == fetch(port) or "web-1\n" == fetch(port),
                          "the restarted instance back in the rotation")
        self.assertEqual(poller.failures, [], "the app stopped answering while one instance was down")
        self.assertGreater(poller.answers, 10)
        self.assertIn("app web exited (signal 9, instance web-1)", console())

        code, out, err = self.berth("logs", "web", "-p", "e2e-rep")
        self.assertEqual(code, 0, err)
        self.assertIn("web-1 | serving on 8080", out)
        self.assertIn("web-2 | serving on 8080", out)
        code, out, err = self.berth("logs", "web", "-p", "e2e-rep", "--instance", "web-2")
        self.assertEqual(code, 0, err)
        self.assertIn("serving on 8080", out)
        self.assertNotIn("web-1 |", out + err)
        code, out, err = self.berth("exec", "web", "-p", "e2e-rep", "--instance", "web-2", "--", "hostname")
        self.assertEqual((code, out), (0, "web-2\n"), err)
        code, out, err = self.berth("exec", "web", "-p", "e2e-rep", "--instance", "nope", "--", "hostname")
        self.assertEqual(code, 1)
        self.assertIn("app 'web' has no instance in VM 'nope' (its instances: web-1, web-2)", err)

        # Fewer replicas: the app leaves its newer VM (the VM itself stays the project's).
        r = self.admin.patch("/v1/projects/e2e-rep/apps/web", {"replicas": 1})
        self.assertEqual(r.status, 200, r)
        self.wait_for(lambda: {fetch(port) for _ in range(4)} == {"web-1\n"}, "traffic to web-1 only")


if __name__ == "__main__":
    h.main()
