#pragma once
// An app's declarative spec: what a release freezes. Stored as canonical JSON.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::controlplane {

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
// namespaces. With a check, a release is rolled out health-gated.
struct HealthSpec {
  std::string type;  // "" (none) | http | tcp | exec
  std::string path = "/";
  std::vector<std::string> command;
  int64_t interval_ms = 10'000;
  int64_t timeout_ms = 2'000;
  int64_t grace_ms = 5'000;
  int64_t retries = 3;
  bool operator==(const HealthSpec&) const = default;
};

struct AppSpec {
  std::string kind = "process";  // process | container
  std::string image;             // empty for process apps that ship files another way
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::vector<PortSpec> ports;
  int64_t replicas = 1;
  std::optional<std::string> vm;  // pin to one VM of the project
  std::vector<SecretRef> secrets;
  Resources resources;
  std::string restart = "always";  // always | on-failure | never
  HealthSpec health;
  bool operator==(const AppSpec&) const = default;
};

// The fields of a create or PATCH request; absent fields keep their current value.
struct AppSpecPatch {
  std::optional<std::string> kind;
  std::optional<std::string> image;
  std::optional<std::vector<std::string>> command;
  std::optional<std::map<std::string, std::string>> env;
  std::optional<std::vector<PortSpec>> ports;
  std::optional<int64_t> replicas;
  std::optional<std::string> vm;
  std::optional<std::vector<SecretRef>> secrets;  // versions 0: the newest are taken
  std::optional<Resources> resources;
  std::optional<std::string> restart;
  std::optional<HealthSpec> health;  // type "" removes the check
};

AppSpec applyPatch(AppSpec spec, const AppSpecPatch& patch);
// Checks rules that span fields (a process app needs a command or an image, ports unique,
// secrets named once and not shadowing an env variable).
Status validateAppSpec(const AppSpec& spec);

nlohmann::json appSpecToJson(const AppSpec& spec);
// Reads a spec written by appSpecToJson (from the store).
Result<AppSpec> appSpecFromJson(const std::string& text);

}  // namespace berth::controlplane
