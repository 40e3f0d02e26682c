#pragma once
// How the CLI shows apps and releases: berthd's answers are read through the typed model
// (model::appSpecFromJson), so a malformed spec is one error instead of odd output.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/resource_commands.h"
#include "common/result.h"
#include "model/app_spec.h"

namespace berth::cli {

// The "spec" of an app or release as berthd answered it; a malformed one is an error naming
// `what` ("app 'site'") and the member at fault.
Result<model::AppSpec> specIn(const nlohmann::json& object, const std::string& what);

// What runs: the command; for a container app without one its image's entrypoint, said as
// "(image entrypoint)"; "-" when the spec names nothing to run.
std::string commandText(const model::AppSpec& spec);
// "8080/tcp,53/udp", or "-" without ports.
std::string portsText(const model::AppSpec& spec);
// "http GET /healthz every 10000 ms, timeout 2000 ms, grace 5000 ms, 3 retries".
std::string healthText(const model::HealthSpec& health);

// `berth app show`: an app as berthd answers it, one "Field:  value" line each; writes nothing
// when the spec is malformed.
Status writeApp(std::ostream& out, const nlohmann::json& app);
// Rows of `berth app ls` (NAME RELEASE STATE KIND REPLICAS PORTS COMMAND) and of
// `berth releases` (RELEASE CREATED BY STATE PORTS COMMAND).
Result<Row> appRow(const nlohmann::json& app);
Result<Row> releaseRow(const nlohmann::json& release);

}  // namespace berth::cli
