"""Real VMs end to end: berthd --dev with its embedded agent boots QEMU guests whose PID 1 is
berth-init, `berth deploy` ships a directory into one, and the app answers from the host."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import berth_harness as h  # noqa: E402

BOOT_SECONDS = 120  # generous: TCG on a loaded 2-core CI machine


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, timeout=3):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as r:
        return r.read().decode()


class Poller:
    """Fetches a page every `interval` s in a thread while in a `with` block; counts the answers
    that are one of `pages` and records every other outcome in `failures`."""

    def __init__(self, port, pages, interval=0.2):
        self.port, self.pages, self.interval = port, pages, interval
        self.failures, self.answers = [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._stop.is_set():
            try:
                page = fetch(self.port, timeout=5)
                if page in self.pages:
                    self.answers += 1
                else:
                    self.failures.append(f"wrong page {page!r}")
            except Exception as e:  # noqa: BLE001 - every failure is recorded, none may happen
                self.failures.append(repr(e))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class ClientThreads:
    """`count` threads calling `self.request()` every `interval` s while in a `with` block; a
    request returns None when its answer was right, or what was wrong, recorded in `failures`."""

    def __init__(self, count, interval):
        self.interval, self.failures, self.answers = interval, [], 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(count)]

    def _run(self):
        while not self._stop.is_set():
            try:
                wrong = self.request()
                if wrong is None:
                    self.answers += 1
                else:
                    self.failures.append(wrong)
            except Exception as e:  # noqa: BLE001 - every failure is recorded, none may happen
                self.failures.append(repr(e))
            self._stop.wait(self.interval)

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join()


def take_network_mode(default):
    """The MODE of `--network MODE` among the script's arguments, taken out of what the harness
    reads; `default` when none is given."""
    args = sys.argv[1:]
    if "--network" not in args or args.index("--network") + 1 >= len(args):
        return default
    i = args.index("--network")
    mode = args[i + 1]
    del sys.argv[i + 1:i + 3]
    return mode


def main_with_init(test_case, script):
    """Runs `test_case` against a berthd --dev whose guests boot the init given as --init PATH
    (tests/e2e/hostile_init.cc), taken out of the arguments the harness reads."""
    args = sys.argv[1:]
    if "--init" not in args or args.index("--init") + 1 >= len(args):
        sys.exit(f"usage: {script} --berthd BERTHD --berth BERTH --init BERTH_HOSTILE_INIT")
    i = args.index("--init")
    init = os.path.abspath(args[i + 1])
    del sys.argv[i + 1:i + 3]
    test_case.berthd_args = h.NO_LIMITS + ["--dev", "--init", init]
    h.main()


def qemu_pids(data_dir, program="qemu-system"):
    """Pids of QEMU processes (or of `program`) whose command line names this berthd's data directory."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if program in cmd.split("\0")[0] and data_dir in cmd:
            pids.append(int(pid))
    return pids


def remove_project_networks():
    """What a bridged agent leaves on the node by design, like its VMs (docs/networking.md): the
    project bridges and taps and the berth tables. The tests take turns, so all of them are this
    test's."""
    if os.geteuid() != 0:
        return
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(("bb-", "bt-", "bx-")):
            subprocess.run(["ip", "link", "del", name], capture_output=True)
    for family in ("inet", "bridge"):
        subprocess.run(["nft", "delete", "table", family, "berth"], capture_output=True)


class VmTestBase(h.BerthdTestCase):
    """berthd --dev with the CLI logged in, and helpers for VMs; no tests of its own."""
    berthd_args = h.NO_LIMITS + ["--dev"]
    # Whether the agent builds project networks in this (the root) network namespace, whose
    # bridges and berth tables kill_vms then removes.
    root_networks = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.home = tempfile.mkdtemp(prefix="berth-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.home, ignore_errors=True)
        cls.env = {"HOME": cls.home, "PATH": os.environ.get("PATH", "")}
        token_file = os.path.join(cls.home, "admin.token")
        with open(token_file, "w") as f:
            f.write(cls.berthd.admin_token + "\n")
        subprocess.run([h.BERTH, "login", f"http://{cls.berthd.address}", "--token-file", token_file],
                       env=cls.env, check=True, capture_output=True)
        cls.addClassCleanup(cls.kill_vms)

    @classmethod
    def kill_vms(cls):
        # VMs and the proxies of published ports outlive berthd by design (they are adopted on
        # restart); the test must not leak them.
        for pid in qemu_pids(cls.berthd.data_dir) + qemu_pids(cls.berthd.data_dir, "berth-agent") + \
                qemu_pids(cls.berthd.data_dir, "dnsmasq"):
            os.kill(pid, signal.SIGKILL)
        if cls.root_networks:
            remove_project_networks()

    def berth(self, *args, timeout=BOOT_SECONDS + 60, input=None):
        r = subprocess.run([h.BERTH, *args], capture_output=True, text=True, env=self.env, timeout=timeout,
                           input=input)
        return r.returncode, r.stdout, r.stderr

    def site(self, text):
        d = tempfile.mkdtemp(prefix="site-", dir=self.home)
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write(text)
        return d

    def deploy(self, project, app, text, host_port, *extra, command=("busybox", "httpd", "-f", "-p", "8080")):
        code, out, err = self.berth("deploy", app, "--project", project, "--dir", self.site(text),
                                    "--port", "8080", "--host-port", str(host_port), "--timeout", str(BOOT_SECONDS),
                                    *extra, "--", *command)
        self.assertEqual(code, 0, f"deploy failed: {out}\n{err}\nberthd log:\n{self.berthd.read_log()[-3000:]}")
        return out

    def vm_dir(self, project, vm):
        return os.path.join(self.berthd.data_dir, "agent", "vms", project, vm)

    def qemu_pid(self, project, vm):
        with open(os.path.join(self.vm_dir(project, vm), "qemu.pid")) as f:
            return int(f.read().strip())

    def wait_for(self, predicate, what, timeout=BOOT_SECONDS):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = predicate()
                if value:
                    return value
            except Exception:  # noqa: BLE001 - a VM on its way up refuses connections
                pass
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what}; berthd log:\n{self.berthd.read_log()[-3000:]}")

    def serial_log(self, project, vm):
        with open(os.path.join(self.vm_dir(project, vm), "serial.log"), errors="replace") as f:
            return f.read()


class VmTest(VmTestBase):
    def test_deploy_answers_and_redeploy_keeps_the_vm(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-web"}).status, 201)
        port = free_port()
        out = self.deploy("e2e-web", "site", "<p>one</p>", port)
        self.assertIn("Created VM default", out)
        self.assertIn("is answering on", out)
        self.assertEqual(fetch(port), "<p>one</p>")
        pid = self.qemu_pid("e2e-web", "default")
        self.assertIn("berth-init: ready", self.serial_log("e2e-web", "default"))

        # A new release reaches the running guest over its NIC; the VM is not rebooted.
        self.deploy("e2e-web", "site", "<p>two</p>", port)
        self.assertEqual(fetch(port), "<p>two</p>")
        self.assertEqual(self.qemu_pid("e2e-web", "default"), pid)
        app = self.admin.get("/v1/projects/e2e-web/apps/site").json
        self.assertEqual(app["status"], {"release": 2, "state": "running", "detail": "",
                                         "instances": [{"vm": "default", "release": 2, "state": "running",
                                                        "detail": ""}]})
        code, out, err = self.berth("app", "ls", "-p", "e2e-web")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"\nsite +2 +running r2 ")
        vm = self.admin.get("/v1/projects/e2e-web/vms/default").json
        self.assertEqual(vm["state"], "running")

    def test_exec_logs_and_console_reach_into_the_guest(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-io"}).status, 201)
        port = free_port()
        # -vv: busybox httpd logs each request on stderr, which becomes the app's log.
        self.deploy("e2e-io", "site", "<p>io</p>", port, command=("busybox", "httpd", "-f", "-vv", "-p", "8080"))
        self.assertEqual(fetch(port), "<p>io</p>")

        # exec runs in the app's directory and environment; streams and the exit status come back.
        code, out, err = self.berth("exec", "site", "-p", "e2e-io", "--",
                                    "sh", "-c", "echo out; echo err >&2; cat index.html; exit 7")
        self.assertEqual((code, out, err), (7, "out\n<p>io</p>", "err\n"))
        r = subprocess.run([h.BERTH, "exec", "site", "-p", "e2e-io", "-i", "--", "wc", "-c"], input="x" * 5000,
                           capture_output=True, text=True, env=self.env, timeout=60)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "5000"), r.stderr)
        # Neither the app nor an exec inherits init's blocked signals (SIGTERM must stop an app).
        code, out, err = self.berth("exec", "site", "-p", "e2e-io", "--",
                                    "sh", "-c", "grep SigBlk /proc/self/status; for p in /proc/[0-9]*; do "
                                    "case \"$(tr '\\0' ' ' < $p/cmdline)\" in 'busybox httpd '*) grep SigBlk $p/status;; "
                                    "esac; done")
        self.assertEqual(code, 0, err)
        self.assertEqual([line.split()[-1] for line in out.splitlines()], ["0000000000000000"] * 2, out)
        code, out, err = self.berth("exec", "site", "-p", "e2e-io", "--timeout", "1", "--", "sleep", "30")
        self.assertEqual(code, 137, err)
        self.assertIn("killed after its timeout", err)
        # A caller that goes away takes its command with it.
        caller = subprocess.Popen([h.BERTH, "exec", "site", "-p", "e2e-io", "--", "sleep", "4242"],
                                  env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def sleeping():
            return "sleep 4242" in self.berth("exec", "site", "-p", "e2e-io", "--", "ps", "-o", "args")[1]

        self.wait_for(sleeping, "the exec'd command to run")
        caller.kill()
        caller.wait()
        self.wait_for(lambda: not sleeping(), "the command of a caller that left to be killed", timeout=60)
        code, out, err = self.berth("exec", "site", "-p", "e2e-io", "--", "/no/such/program")
        self.assertEqual(code, 1)
        self.assertIn("cannot start '/no/such/program'", err)

        # logs: what the app wrote, kept on the node; -f streams what comes next.
        self.wait_for(lambda: "url:/" in self.berth("logs", "site", "-p", "e2e-io")[2], "the request in the app's log")
        follower = subprocess.Popen([h.BERTH, "logs", "site", "-p", "e2e-io", "-f", "--tail", "0", "--json"],
                                    stdout=subprocess.PIPE, text=True, env=self.env)
        stop = threading.Event()

        def poke():
            # Until the follower has seen one: a request made before it attached is not followed.
            while not stop.is_set():
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/followed", timeout=5)
                except urllib.error.HTTPError:
                    pass  # 404: no such file; httpd logs the request all the same
                stop.wait(0.5)

        poker = threading.Thread(target=poke)
        poker.start()
        try:
            line = json.loads(follower.stdout.readline())
            while "/followed" not in line["data"]:
                line = json.loads(follower.stdout.readline())
            self.assertEqual(line["stream"], "stderr")
            self.assertRegex(line["ts"], r"^\d{4}-\d\d-\d\dT")
        finally:
            stop.set()
            poker.join()
            follower.kill()
            follower.wait()

        # console: the guest's serial output, as the node keeps it.
        code, out, err = self.berth("vm", "console", "default", "-p", "e2e-io", "--tail", "50")
        self.assertEqual(code, 0, err)
        self.assertIn("berth-init: ready", out)
        self.assertIn("berth-init: app site started", out)

    def test_secrets_reach_the_app_and_nothing_else(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-sec"}).status, 201)
        port = free_port()
        self.deploy("e2e-sec", "site", "<p>sec</p>", port)
        value, file_value = "env-" + os.urandom(8).hex(), "file-" + os.urandom(8).hex()
        for name, v in (("GREETING", value), ("TOKEN", file_value)):
            code, _, err = self.berth("secret", "set", name, "-p", "e2e-sec", input=v)
            self.assertEqual(code, 0, err)
        code, out, err = self.berth("app", "set", "site", "-p", "e2e-sec", "--secret", "GREETING",
                                    "--secret-file", "TOKEN")
        self.assertEqual(code, 0, err)

        def running(release):
            status = self.admin.get("/v1/projects/e2e-sec/apps/site").json["status"]
            return status["release"] == release and status["state"] == "running"

        self.wait_for(lambda: running(2), "release 2 with the secrets to run")
        code, out, err = self.berth("exec", "site", "-p", "e2e-sec", "--", "sh", "-c",
                                    "echo \"$GREETING\"; cat /run/secrets/site/TOKEN; echo; "
                                    "stat -c %a /run/secrets/site/TOKEN; stat -f -c %T /run/secrets/site")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split(), [value, file_value, "400", "tmpfs"])
        # A new value is a new release, delivered to the running VM.
        code, out, err = self.berth("secret", "set", "GREETING", "-p", "e2e-sec", input=value + "-v2")
        self.assertIn("app site: new release", out, err)
        self.wait_for(lambda: running(3), "release 3 with the new value to run")
        code, out, err = self.berth("exec", "site", "-p", "e2e-sec", "--", "sh", "-c", "echo $GREETING")
        self.assertEqual(out.strip(), value + "-v2", err)
        self.assertEqual(fetch(port), "<p>sec</p>")
        # Not on the QEMU command line, the serial console, berthd's log or the agent's files.
        with open(f"/proc/{self.qemu_pid('e2e-sec', 'default')}/cmdline", "rb") as f:
            cmdline = f.read()
        for secret in (value, file_value):
            self.assertNotIn(secret.encode(), cmdline)
            self.assertNotIn(secret, self.serial_log("e2e-sec", "default"))
            self.assertNotIn(secret, self.berthd.read_log())
        for root, _, files in os.walk(os.path.join(self.berthd.data_dir, "agent")):
            for name in files:
                path = os.path.join(root, name)
                if os.path.getsize(path) < 64 << 20 and not name.endswith((".ext4", ".img", ".sock")):
                    with open(path, "rb") as f:
                        data = f.read()
                    self.assertNotIn(value.encode(), data, path)
                    self.assertNotIn(file_value.encode(), data, path)

    def test_a_failing_command_fails_the_deploy_with_the_reason(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-bad"}).status, 201)
        code, out, err = self.berth("deploy", "broken", "--project", "e2e-bad", "--dir", self.site("x"),
                                    "--port", "8080", "--host-port", str(free_port()),
                                    "--", "/no/such/server")
        self.assertEqual(code, 1, out)
        self.assertIn("cannot start '/no/such/server'", err)
        self.assertEqual(err.count("\n"), 1, err)

    def test_a_host_port_in_use_is_a_clear_error(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-port"}).status, 201)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            code, out, err = self.berth("deploy", "site", "--project", "e2e-port", "--dir", self.site("x"),
                                        "--port", "8080", "--host-port", str(taken.getsockname()[1]),
                                        "--", "busybox", "httpd", "-f", "-p", "8080")
        self.assertEqual(code, 1, out)
        self.assertIn("is it in use?", err)

    def test_a_vm_too_large_for_the_quota_is_refused_and_nothing_boots(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-quota", "quotas": {"memory_mib": 512}}).status,
                         201)
        r = self.admin.post("/v1/projects/e2e-quota/vms", {"name": "big", "memory_mib": 1024})
        self.assertEqual(r.status, 409, r)
        self.assertIn("memory_mib", r.error_message())
        self.assertFalse(os.path.exists(self.vm_dir("e2e-quota", "big")))
        self.assertEqual(self.admin.get("/v1/projects/e2e-quota/vms/nope").status, 404)

    def test_a_missing_kernel_stops_berthd_dev_with_the_fix_and_boots_nothing(self):
        data = tempfile.mkdtemp(prefix="berth-nokernel-", dir=self.home)
        r = subprocess.run([h.BERTHD, "--dev", "--data", data, "--listen", "127.0.0.1:0", "--kernel", data + "/none"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"guest kernel {data}/none/vmlinuz is missing (run scripts/fetch-guest-kernel", r.stderr)
        self.assertEqual(qemu_pids(data), [])

    def test_qemu_killed_is_booted_again_and_the_app_answers(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-crash"}).status, 201)
        port = free_port()
        self.deploy("e2e-crash", "site", "<p>crash</p>", port)
        pid = self.qemu_pid("e2e-crash", "default")
        seq = self.last_seq()
        os.kill(pid, signal.SIGKILL)
        self.wait_for(lambda: self.qemu_pid("e2e-crash", "default") != pid and fetch(port) == "<p>crash</p>",
                      "the VM to boot again and the app to answer")
        details = [e["details"].get("detail", "") for e in self.events_after(seq) if e["action"] == "vm.state"]
        self.assertTrue(any("QEMU exited unexpectedly" in d for d in details), details)

    def test_stop_powers_the_guest_off_cleanly(self):
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-stop"}).status, 201)
        self.deploy("e2e-stop", "site", "<p>stop</p>", free_port())
        pid = self.qemu_pid("e2e-stop", "default")
        self.assertEqual(self.admin.post("/v1/projects/e2e-stop/vms/default/stop").status, 202)
        self.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), "QEMU to exit")
        log = self.serial_log("e2e-stop", "default")
        self.assertIn("berth-init: app site exited", log)
        self.assertIn("berth-init: powering off", log)
        self.wait_for(lambda: self.admin.get("/v1/projects/e2e-stop/vms/default").json["state"] == "stopped",
                      "the VM to be reported stopped")

    def test_zz_berthd_killed_restarts_and_adopts_the_running_vm(self):
        # Named to run last in this class: it restarts the class's berthd.
        self.assertEqual(self.admin.post("/v1/projects", {"name": "e2e-adopt"}).status, 201)
        port = free_port()
        self.deploy("e2e-adopt", "site", "<p>adopt</p>", port)
        pid = self.qemu_pid("e2e-adopt", "default")

        with Poller(port, ("<p>adopt</p>",), interval=0.1) as poller:
            self.berthd.proc.kill()
            self.berthd.proc.wait()
            self.berthd.log.close()
            time.sleep(1)
            self.berthd.start()
            type(self).admin = self.berthd.admin()
            self.wait_for(lambda: "adopted VM e2e-adopt/default" in self.berthd.read_log(), "adoption")
            time.sleep(2)
        self.assertEqual(poller.failures, [], "the app stopped answering while berthd restarted")
        self.assertEqual(self.qemu_pid("e2e-adopt", "default"), pid)
        self.assertIn(pid, qemu_pids(self.berthd.data_dir))
        self.assertEqual(fetch(port), "<p>adopt</p>")


if __name__ == "__main__":
    h.main()
