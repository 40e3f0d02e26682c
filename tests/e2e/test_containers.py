"""Container apps end to end: an OCI image built here (busybox and a page), imported through
the CLI (a second import is a cache hit), run in a real VM in its own namespaces and overlay,
answering from the host; two apps in one VM see neither each other's files nor processes."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402
from test_images import oci_archive  # noqa: E402
from test_vms import BOOT_SECONDS, Poller, VmTestBase, fetch, free_port  # noqa: E402


def busybox_image(page, command):
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    layer = [("bin", "dir", None), ("bin/busybox", "exec", busybox), ("bin/sh", "symlink", "busybox"),
             ("www", "dir", None), ("www/index.html", "file", page.encode()), ("etc", "dir", None),
             ("etc/marker", "file", page.encode())]
    return oci_archive([layer], entrypoint=command, workdir="/www")


class ContainerTest(VmTestBase):
    def import_image(self, archive):
        path = os.path.join(tempfile.mkdtemp(dir=self.home), "image.tar")
        with open(path, "wb") as f:
            f.write(archive)
        code, out, err = self.berth("image", "import", path, "-p", "e2e-ctr")
        self.assertEqual(code, 0, err)
        return out, err

    def running(self, app, release=1):
        status = self.admin.get(f"/v1/projects/e2e-ctr/apps/{app}").json["status"]
        return status["release"] == release and status["state"] == "running"

    def test_images_run_isolated_in_their_own_namespaces(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-ctr"}).status, 201)
        web_archive, web_digest = busybox_image("<p>container</p>", ("/bin/busybox", "httpd", "-f", "-p", "8080"))
        out, err = self.import_image(web_archive)
        self.assertIn("Imported " + web_digest, out)
        self.assertIn("unpack layer 1/1", err)
        out, err = self.import_image(web_archive)
        self.assertIn("Already imported (cached, no work): " + web_digest, out)
        other_archive, other_digest = busybox_image("<p>other</p>", ("/bin/busybox", "sleep", "100000"))
        self.import_image(other_archive)

        self.assertEqual(self.admin.post("/v1/projects/e2e-ctr/vms", {"name": "default"}).status, 201)
        port = free_port()
        r = self.admin.post("/v1/projects/e2e-ctr/apps", {"name": "web", "kind": "container", "image": web_digest,
                                                          "ports": [{"port": 8080, "host_port": port}]})
        self.assertEqual(r.status, 201, r)
        r = self.admin.post("/v1/projects/e2e-ctr/apps", {"name": "other", "kind": "container",
                                                          "image": other_digest})
        self.assertEqual(r.status, 201, r)
        try:
            self.wait_for(lambda: self.running("web") and self.running("other"), "both container apps to run",
                          timeout=BOOT_SECONDS + 60)
        except AssertionError as e:
            raise AssertionError(f"{e}\nserial console:\n{self.serial_log('e2e-ctr', 'default')[-3000:]}") from None
        self.assertEqual(self.wait_for(lambda: fetch(port), "the container's page"), "<p>container</p>")

        # Each sees its own image as /, its own hostname, and in its PID namespace only its own
        # processes: the reaper (PID 1), the app, and the exec'd command.
        for app, page, program in (("web", "<p>container</p>", "httpd"), ("other", "<p>other</p>", "sleep")):
            code, out, err = self.berth("exec", app, "-p", "e2e-ctr", "--", "/bin/sh", "-c",
                                        "cat /etc/marker; echo; hostname; pwd; ls /;"
                                        "ps -o args")
            self.assertEqual(code, 0, err)
            lines = out.splitlines()
            self.assertEqual(lines[:3], [page, app, "/www"], out)
            self.assertNotIn("images", lines, "the VM's /images must be out of sight")
            self.assertNotIn("var", lines)
            self.assertIn(program, out)
            self.assertNotIn("sleep 100000" if app == "web" else "httpd", out)
            self.assertNotIn("berth-init", out)
        # A file written in one container is not in the other or in the image.
        self.berth("exec", "web", "-p", "e2e-ctr", "--", "/bin/sh", "-c", "echo x > /www/written")
        code, out, _ = self.berth("exec", "other", "-p", "e2e-ctr", "--", "/bin/sh", "-c", "ls /www")
        self.assertNotIn("written", out)
        self.assertEqual(fetch(port), "<p>container</p>")
        # Past its memory limit an app is OOM-killed (cgroup v2 memory.max) and restarted, while
        # its sibling keeps answering.
        hog = ["/bin/busybox", "sh", "-c", "echo start; a=x; while true; do a=$a$a; done"]
        with Poller(port, ("<p>container</p>",)) as poller:
            r = self.admin.post("/v1/projects/e2e-ctr/apps", {"name": "hog", "kind": "container",
                                                              "image": other_digest, "command": hog,
                                                              "resources": {"memory_mib": 32}})
            self.assertEqual(r.status, 201, r)

            def restarted():
                code, out, _ = self.berth("logs", "hog", "-p", "e2e-ctr", timeout=60)
                return code == 0 and out.count("start") >= 2

            self.wait_for(restarted, "the hog to be OOM-killed and started again")
        self.assertEqual(poller.failures, [])
        self.assertGreater(poller.answers, 0)
        console = self.serial_log("e2e-ctr", "default")
        self.assertIn("Memory cgroup out of memory", console)
        self.assertIn("berth-init: app hog exited (code 137, instance hog-1)", console)
        # Restart policies: `never` and `on-failure` leave a clean exit alone; a failure under
        # `on-failure` is started again.
        for name, policy, script in (("once", "never", "echo ran; exit 3"), ("clean", "on-failure", "echo ran"),
                                     ("flaky", "on-failure", "echo ran; exit 3")):
            r = self.admin.post("/v1/projects/e2e-ctr/apps", {"name": name, "kind": "container", "restart": policy,
                                                              "image": other_digest,
                                                              "command": ["/bin/busybox", "sh", "-c", script]})
            self.assertEqual(r.status, 201, r)

        def runs(app):
            code, out, _ = self.berth("logs", app, "-p", "e2e-ctr", timeout=60)
            return out.count("ran") if code == 0 else 0

        self.wait_for(lambda: runs("flaky") >= 2, "the failing on-failure app to be started again")
        self.wait_for(lambda: runs("once") == 1 and runs("clean") == 1, "the other two to run once")
        time.sleep(3)  # the first restart would come after 1 s of backoff
        self.assertEqual((runs("once"), runs("clean")), (1, 1))
        r = self.admin.post("/v1/projects/e2e-ctr/apps", {"name": "bad", "kind": "container",
                                                          "image": "sha256:" + "1" * 64})
        self.assertError(r, 400, "invalid_argument", "was not imported into project 'e2e-ctr'")

    def test_deploy_an_image_health_gated(self):
        """`berth deploy --image ARCHIVE`: imported, run as a container app, answering; deploying
        it again is a cache hit and makes no new release; a new image rolls out health-gated."""
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-img"}).status, 201)
        port = free_port()
        path = os.path.join(tempfile.mkdtemp(dir=self.home), "web.tar")

        def deploy(page, *port_flags):
            archive, digest = busybox_image(page, ("/bin/busybox", "httpd", "-f", "-p", "$(PORT)"))
            with open(path, "wb") as f:
                f.write(archive)
            code, out, err = self.berth("deploy", "web", "-p", "e2e-img", "--image", path, *port_flags,
                                        "--host-port", str(port), "--health-http", "/", "--health-interval", "1s")
            self.assertEqual(code, 0, f"{out}\n{err}")
            return out, err, digest

        out, err, digest = deploy("<p>image one</p>")  # no --port: the image's EXPOSE 8080/tcp
        self.assertIn("Imported image " + digest, out)
        self.assertIn("Port 8080 (the image's EXPOSE)", out)
        self.assertIn("unpack layer 1/1", err)
        self.assertIn("Release 1 of web created", out)
        self.assertEqual(fetch(port), "<p>image one</p>")
        app = self.admin.get("/v1/projects/e2e-img/apps/web").json
        self.assertEqual((app["spec"]["kind"], app["spec"]["image"]), ("container", digest))

        out, err, _ = deploy("<p>image one</p>", "--port", "8080")
        self.assertIn("Image already imported: " + digest, out)
        self.assertEqual(self.admin.get("/v1/projects/e2e-img/apps/web").json["release"], 1)

        with Poller(port, ("<p>image one</p>", "<p>image two</p>"), interval=0.05) as poller:
            out, err, digest = deploy("<p>image two</p>", "--port", "8080")
        self.assertIn("Release 2 of web created", out)
        self.assertEqual(poller.failures, [], "requests failed while the new image took over")
        self.assertEqual(fetch(port), "<p>image two</p>")


if __name__ == "__main__":
    h.main()
