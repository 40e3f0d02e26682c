"""The real `berth` binary against a real berthd: output, exit codes, config."""
import json
import os
import shutil
import subprocess
import tempfile

import berth_harness as h


class CliTest(h.BerthdTestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="berth-cli-")
        self.env = {"HOME": self.home, "PATH": os.environ.get("PATH", "")}
        self.token_file = os.path.join(self.home, "admin.token")
        with open(self.token_file, "w") as f:
            f.write(self.berthd.admin_token + "\n")

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def berth(self, *args, env=None, input=None):
        r = subprocess.run([h.BERTH, *args], capture_output=True, text=True, env={**self.env, **(env or {})},
                           input=input, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def login(self):
        code, out, err = self.berth("login", f"http://{self.berthd.address}", "--token-file", self.token_file)
        self.assertEqual(code, 0, err)
        return out

    def test_login_saves_a_private_config(self):
        out = self.login()
        self.assertIn("as token 'admin' (admin)", out)
        path = os.path.join(self.home, ".config", "berth", "config.json")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(json.load(open(path))["url"], f"http://{self.berthd.address}")

    def test_login_with_a_bad_token_is_one_line_exit_1(self):
        bad = os.path.join(self.home, "bad")
        with open(bad, "w") as f:
            f.write("berth_nope\n")
        code, out, err = self.berth("login", f"http://{self.berthd.address}", "--token-file", bad)
        self.assertEqual(code, 1)
        self.assertEqual(err, "berth: the token is not valid (unknown or revoked)\n")
        self.assertFalse(os.path.exists(os.path.join(self.home, ".config", "berth", "config.json")))

    def test_project_vm_app_lifecycle_tables_and_json(self):
        self.login()
        self.assertEqual(self.berth("project", "create", "clidemo", "--vcpus", "4")[0], 0)
        code, out, _ = self.berth("project", "ls")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"(?m)^NAME\s+VCPUS\s+MEMORY_MIB")
        self.assertRegex(out, r"(?m)^clidemo\s+0/4\s")
        code, out, _ = self.berth("project", "show", "clidemo", "--json")
        self.assertEqual(json.loads(out)["quotas"]["vcpus"], 4)

        self.assertEqual(self.berth("vm", "create", "web", "--project", "clidemo", "--vcpus", "2")[0], 0)
        code, _, err = self.berth("vm", "create", "big", "--project", "clidemo", "--vcpus", "3")
        self.assertEqual(code, 1)
        self.assertIn("vcpus would be 5 of a quota of 4 (over by 1)", err)
        code, out, _ = self.berth("vm", "ls", env={"BERTH_PROJECT": "clidemo"})
        self.assertRegex(out, r"(?m)^web\s+2\s+512\s+2\s+microvm\s+running\s+pending\s+-\s+10\.\d+\.\d+\.2$")
        code, out, _ = self.berth("vm", "show", "web", "-p", "clidemo")
        self.assertRegex(out, r"(?m)^Address:\s+10\.\d+\.\d+\.2 \(web\.clidemo\.internal\)$")
        code, out, err = self.berth("project", "set", "clidemo", "--egress", "deny")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"(?m)^Network:\s+10\.\d+\.\d+\.0/24 \(gateway 10\.\d+\.\d+\.1\)$")
        self.assertRegex(out, r"(?m)^Egress:\s+deny$")
        self.assertEqual(self.berth("project", "set", "clidemo", "--egress", "maybe")[0], 2)

        code, out, err = self.berth("app", "create", "site", "-p", "clidemo", "--port", "8080", "-e", "A=1", "--",
                                    "busybox", "httpd", "-f", "-p", "8080")
        self.assertEqual(code, 0, err)
        self.assertIn("Command:   busybox httpd -f -p 8080", out)
        self.assertEqual(self.berth("app", "set", "site", "-p", "clidemo", "-e", "A=2")[0], 0)
        code, out, _ = self.berth("releases", "site", "-p", "clidemo")
        self.assertEqual([l.split()[0] for l in out.splitlines()[1:]], ["2", "1"])
        code, out, _ = self.berth("rollback", "site", "-p", "clidemo")
        self.assertEqual(out, "App site is now at release 3\n")
        code, out, _ = self.berth("app", "show", "site", "-p", "clidemo", "--json")
        self.assertEqual(json.loads(out)["spec"]["env"], {"A": "1"})

    def test_secrets_from_stdin_and_file_never_printed(self):
        self.login()
        self.berth("project", "create", "sec")
        code, out, err = self.berth("secret", "set", "API_KEY", "--project", "sec", input="k-123\n")
        self.assertEqual((code, err), (0, ""), err)
        self.assertIn("Set secret API_KEY version 1", out)
        key_file = os.path.join(self.home, "tls.pem")
        with open(key_file, "w") as f:
            f.write("-----BEGIN KEY-----\n")
        code, out, err = self.berth("secret", "set", "TLS", "--project", "sec", "--file", key_file)
        self.assertEqual(code, 0, err)
        code, out, err = self.berth("app", "create", "api", "--project", "sec", "--secret", "API_KEY",
                                    "--secret-file", "TLS", "--cmd", "sleep 1000")
        self.assertEqual(code, 0, err)
        self.assertIn("Secret:    API_KEY v1 (env)", out)
        self.assertIn("Secret:    TLS v1 (file)", out)
        code, out, err = self.berth("secret", "set", "API_KEY", "--project", "sec", input="k-456")
        self.assertIn("app api: new release", out)
        code, out, _ = self.berth("secret", "ls", "--project", "sec")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"API_KEY\s+2")
        self.assertNotIn("k-456", out)
        code, _, err = self.berth("secret", "rm", "TLS", "--project", "sec")
        self.assertEqual(code, 1)
        self.assertIn("used by app(s) api", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_tokens_made_by_the_cli_work_with_their_role(self):
        self.login()
        self.berth("project", "create", "tokdemo")
        code, out, _ = self.berth("token", "create", "ro", "--role", "viewer", "--project", "tokdemo")
        self.assertEqual(code, 0)
        secret = out.splitlines()[1]
        self.assertRegex(secret, r"^berth_[0-9a-f]{64}$")
        self.assertIn("will not be shown again", out)
        viewer_file = os.path.join(self.home, "viewer.token")
        with open(viewer_file, "w") as f:
            f.write(secret)
        code, out, _ = self.berth("--token-file", viewer_file, "vm", "ls", "-p", "tokdemo")
        self.assertEqual(code, 0)
        code, _, err = self.berth("--token-file", viewer_file, "vm", "create", "x", "-p", "tokdemo")
        self.assertEqual((code, err), (1, "berth: the viewer role cannot do this; it needs the deployer role\n"))
        code, out, _ = self.berth("token", "ls")
        self.assertIn("viewer", out)
        self.assertNotIn(secret, out)

    def test_deploy_onto_another_apps_host_port_is_one_line_exit_1(self):
        self.login()
        a = self.berthd.admin()
        self.assertEqual(a.post("/v1/projects", {"name": "portowner"}).status, 201)
        r = a.post("/v1/projects/portowner/apps",
                   {"name": "held", "command": ["httpd"], "ports": [{"port": 8080, "host_port": 18555}]})
        self.assertEqual(r.status, 201, r)
        self.berth("project", "create", "portclaimer")
        site = os.path.join(self.home, "site")
        os.mkdir(site)
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write("<p>hi</p>")
        deploy = ("deploy", "site", "--project", "portclaimer", "--dir", site, "--port", "8080", "--no-wait")
        code, _, err = self.berth(*deploy, "--host-port", "18555", "--", "busybox", "httpd", "-f", "-p", "8080")
        self.assertEqual((code, err), (1, "berth: host port 18555 is already published by another app\n"))
        code, _, err = self.berth(*deploy, "--host-port", "80", "--", "busybox", "httpd", "-f", "-p", "8080")
        self.assertEqual((code, err),
                         (1, "berth: host port 80 is outside the range this platform publishes (1024-65535)\n"))
        self.assertEqual(a.get("/v1/projects/portclaimer/apps").json["items"], [])

    def test_events_lists_mutations(self):
        self.login()
        self.berth("project", "create", "evdemo")
        code, out, _ = self.berth("events", "-n", "1")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"project\.create\s+projects/evdemo")

    def test_status(self):
        self.login()
        code, out, _ = self.berth("status")
        self.assertEqual(code, 0)
        self.assertIn("(berthd 0.1.0, ok)", out)
        self.assertIn("role admin", out)

    def test_usage_errors_exit_2(self):
        self.assertEqual(self.berth("project")[0], 2)
        self.assertEqual(self.berth("vm", "create", "x")[0], 2)
        self.assertEqual(self.berth("--no-such-flag")[0], 2)

    def test_server_down_is_one_readable_line(self):
        code, _, err = self.berth("--url", "http://127.0.0.1:1", "--token-file", self.token_file, "project", "ls")
        self.assertEqual(code, 1)
        self.assertEqual(err, "berth: cannot reach berthd at http://127.0.0.1:1: Connection refused\n")

    def test_not_logged_in(self):
        code, _, err = self.berth("project", "ls")
        self.assertEqual((code, err), (1, "berth: not logged in; run 'berth login URL --token-file FILE'\n"))


if __name__ == "__main__":
    h.main()
