#pragma once
// An app's declarative spec: what a release freezes, what berthd stores and what a node is told
// to run. One definition, one JSON form (appSpecToJson / appSpecFromJson), used by berthd, the
// agent and the CLI alike.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::model {

struct PortSpec {
  int64_t port = 0;
  std::string protocol = "tcp";
  // Published on the node's 127.0.0.1:host_port (dev networking); 0 = not published.
  int64_t host_port = 0;
  bool operator==(const PortSpec&) const = default;
};

// A secret of the project the app sees: as an environment variable of the same name, or as the
// file /run/secrets/<app>/<name> (tmpfs in the guest, mode 0400). A release freezes the version.
struct SecretRef {
  std::string name;
  std::string as = "env";  // env | file
  int64_t version = 0;     // 0 until the release is made: then the newest version
  bool operator==(const SecretRef&) const = default;
};

// Limits of one instance inside its VM (cgroup v2 of a container app); 0 = no limit.
struct Resources {
  int64_t memory_mib = 0;  // memory.max; past it the kernel OOM-kills and init restarts the app
  int64_t cpu_millis = 0;  // cpu.max: 1000 = one vCPU
  int64_t pids = 0;        // pids.max
  bool operator==(const Resources&) const = default;
};

// How init decides an instance is healthy (guest/health_check.h has the rules). http and tcp
// probe the instance's port ($PORT, the first of `ports`); exec runs `command` in the app's
// namespaces. With a check, a release is rolled out health-gated. The defaults here are the only
// ones: every reader of a spec takes them from this struct.
struct HealthSpec {
  std::string type;  // "" (none) | http | tcp | exec
  std::string path = "/";
  std::vector<std::string> command;
  int64_t interval_ms = 10'000;
  int64_t timeout_ms = 2'000;
  int64_t grace_ms = 5'000;
  int64_t retries = 3;
  bool enabled() const { return !type.empty(); }
  bool operator==(const HealthSpec&) const = default;
};

struct AppSpec {
  std::string kind = "process";  // process | container
  // A process app's bundle ("sha256:…", uploaded) or a container app's imported image digest;
  // empty for a process app that runs what its VM has.
  std::string image;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::vector<PortSpec> ports;
  int64_t replicas = 1;
  std::optional<std::string> vm;  // pin to one VM of the project (in a node's assignment: its VM)
  std::vector<SecretRef> secrets;
  Resources resources;
  std::string restart = "always";  // always | on-failure | never
  HealthSpec health;
  bool isContainer() const { return kind == "container"; }
  bool operator==(const AppSpec&) const = default;
};

// Checks rules that span fields (a process app needs a command or an image, ports unique,
// secrets named once and not shadowing an env variable). Single fields are checked where the
// request is parsed.
Status validateAppSpec(const AppSpec& spec);

// The canonical JSON form: stored as a release's spec, rendered by the API, sent to nodes.
nlohmann::json appSpecToJson(const AppSpec& spec);
// Reads what appSpecToJson wrote. A member of the wrong type is an InvalidArgument naming it;
// absent members take the struct's defaults. Never throws.
Result<AppSpec> appSpecFromJson(const nlohmann::json& j);
Result<AppSpec> appSpecFromJson(const std::string& text);

}  // namespace berth::model
