"""A guest that stops answering holds up its own VM only (docs/vms.md, "The reconcile loop"). berthd --dev
boots every guest with berth-hostile-init (tests/e2e/hostile_init.cc); the VM named hostile-mute says hello
like a good guest and then answers nothing, so the run_app of an app deployed into it waits out its 120 s.
Meanwhile, on the same node, a deploy into a healthy VM completes promptly and the node keeps reporting: its
heartbeat_at in GET /v1/nodes keeps advancing. (When one loop reconciled every VM in turn, the healthy deploy
and the heartbeat both waited for the stuck call, and the node was marked lost after 30 s.)"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402
import test_vms as vms  # noqa: E402  (its helpers; its tests are not collected here)

PROJECT = "e2e-stuck"
MUTE = "hostile-mute"
RUN_APP_TIMEOUT = 120  # kRunAppTimeout in src/agent/vm_supervisor.cc: how long the mute guest holds its VM


class StuckGuestTest(vms.VmTestBase):
    berthd_args = None  # set by main() from --init

    def vm(self, name):
        r = self.admin.get(f"/v1/projects/{PROJECT}/vms/{name}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def instance_state(self, app, vm):
        r = self.admin.get(f"/v1/projects/{PROJECT}/apps/{app}")
        if r.status != 200:
            return None
        for instance in r.json.get("status", {}).get("instances", []):
            if instance["vm"] == vm:
                return instance["state"]
        return None

    def node(self):
        nodes = self.admin.get("/v1/nodes").json["items"]
        self.assertEqual(len(nodes), 1, nodes)
        return nodes[0]

    def test_a_mute_guest_delays_neither_a_deploy_into_another_vm_nor_the_heartbeat(self):
        started = time.monotonic()
        self.assertEqual(self.admin.post("/v1/projects", {"name": PROJECT}).status, 201)
        self.assertEqual(self.admin.post(f"/v1/projects/{PROJECT}/vms", {"name": "calm"}).status, 201)
        port = vms.free_port()
        self.deploy(PROJECT, "web", "<p>calm</p>", port, "--vm", "calm")
        calm_pid = self.qemu_pid(PROJECT, "calm")

        self.assertEqual(self.admin.post(f"/v1/projects/{PROJECT}/vms", {"name": MUTE}).status, 201)
        self.wait_for(lambda: self.vm(MUTE)["state"] == "running", f"{MUTE} to say hello")
        self.wait_for(lambda: "hostile-init: played mute" in self.serial_log(PROJECT, MUTE), f"{MUTE} to go mute",
                      timeout=30)
        print(f"\nmute guest up after {time.monotonic() - started:.0f} s", file=sys.stderr)

        # An app for the mute guest: the agent sends its run_app, which is never answered. The deploy
        # runs in the background (it would wait for the release), and is ended at the end.
        stuck_deploy = subprocess.Popen(
            [h.BERTH, "deploy", "stuck", "--project", PROJECT, "--dir", self.site("<p>never</p>"), "--port", "8080",
             "--vm", MUTE, "--timeout", "600", "--", "busybox", "httpd", "-f", "-p", "8080"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # The agent reports the instance deploying just before it sends run_app; the bundle it fetches
            # and converts first is tiny, so a few seconds later the call is waiting on the guest.
            self.wait_for(lambda: self.instance_state("stuck", MUTE) == "deploying", "the stuck app to be deploying",
                          timeout=60)
            time.sleep(5)
            stuck_since = time.monotonic()
            heartbeats = [self.node()["heartbeat_at"]]

            # A redeploy into the healthy VM completes while the mute guest still holds its own.
            self.deploy(PROJECT, "web", "<p>calm again</p>", port, "--vm", "calm")
            redeployed = time.monotonic() - stuck_since
            print(f"healthy redeploy took {redeployed:.0f} s beside the stuck run_app", file=sys.stderr)
            self.assertEqual(vms.fetch(port), "<p>calm again</p>")
            self.assertEqual(self.qemu_pid(PROJECT, "calm"), calm_pid)
            self.assertEqual(self.instance_state("stuck", MUTE), "deploying")
            self.assertLess(redeployed, RUN_APP_TIMEOUT - 30)

            # The node keeps reporting: every few seconds a newer heartbeat, and it stays ready.
            for _ in range(4):
                time.sleep(4)
                node = self.node()
                self.assertEqual(node["state"], "ready", node)
                self.assertGreater(node["heartbeat_at"], heartbeats[-1], heartbeats)
                heartbeats.append(node["heartbeat_at"])
            self.assertLess(time.monotonic() - stuck_since, RUN_APP_TIMEOUT)
            self.assertEqual(self.instance_state("stuck", MUTE), "deploying")
        finally:
            stuck_deploy.kill()
            stuck_deploy.wait()

        # Deleting the mute VM cuts its stuck call short and ends its QEMU; the healthy VM runs on.
        mute_pid = self.qemu_pid(PROJECT, MUTE)
        self.assertEqual(self.admin.delete(f"/v1/projects/{PROJECT}/apps/stuck").status, 204)
        self.assertEqual(self.admin.delete(f"/v1/projects/{PROJECT}/vms/{MUTE}").status, 204)
        self.wait_for(lambda: mute_pid not in vms.qemu_pids(self.berthd.data_dir), f"{MUTE}'s QEMU to end",
                      timeout=60)
        self.assertEqual(self.qemu_pid(PROJECT, "calm"), calm_pid)
        self.assertEqual(vms.fetch(port), "<p>calm again</p>")
        print(f"done after {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    vms.main_with_init(StuckGuestTest, "test_stuck_guest.py")
