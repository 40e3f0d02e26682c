#include "cli/app_view.h"

#include <ostream>

namespace berth::cli {

namespace {

// A release's fate: "running", "failed: why", "rollback of 3 (automatic)".
std::string outcomeOf(const nlohmann::json& r) {
  std::string out = str(r["state"]);
  if (r.contains("rollback_of")) {
    out += ", rollback of " + str(r["rollback_of"]) + (r.value("automatic", false) ? " (automatic)" : "");
  }
  return out;
}

// What the VM's agent reports: "running r3", "deploying r4", "failed r4", "pending".
std::string stateOf(const nlohmann::json& app) {
  const auto& status = app["status"];
  if (!status.is_object()) return "-";
  std::string out = str(status["state"]);
  if (status["release"].is_number_integer() && status["release"].get<int64_t>() > 0) {
    out += " r" + str(status["release"]);
  }
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

Result<model::AppSpec> specIn(const nlohmann::json& object, const std::string& what) {
  static const nlohmann::json kAbsent;
  const nlohmann::json& spec = object.is_object() && object.contains("spec") ? object["spec"] : kAbsent;
  auto parsed = model::appSpecFromJson(spec);
  if (!parsed.isOk()) {
    return internalError("berthd's answer for " + what + " is malformed: " + parsed.status().message());
  }
  return parsed;
}

std::string commandText(const model::AppSpec& spec) {
  if (!spec.command.empty()) return joined(spec.command);
  return spec.isContainer() ? "(image entrypoint)" : "-";
}

std::string portsText(const model::AppSpec& spec) {
  std::string out;
  for (const auto& p : spec.ports) out += (out.empty() ? "" : ",") + std::to_string(p.port) + "/" + p.protocol;
  return out.empty() ? "-" : out;
}

std::string healthText(const model::HealthSpec& h) {
  std::string out = h.type;
  if (h.type == "http") out += " GET " + h.path;
  if (h.type == "exec") out += ": " + joined(h.command);
  return out + " every " + std::to_string(h.interval_ms) + " ms, timeout " + std::to_string(h.timeout_ms) +
         " ms, grace " + std::to_string(h.grace_ms) + " ms, " + std::to_string(h.retries) + " retries";
}

Status writeApp(std::ostream& out, const nlohmann::json& a) {
  BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, specIn(a, "app '" + str(a["name"]) + "'"));
  out << "Name:      " << str(a["name"]) << "\n"
      << "Project:   " << str(a["project"]) << "\n"
      << "Release:   " << str(a["release"]) << "\n"
      << "State:     " << stateOf(a);
  if (a["status"].is_object() && !str(a["status"]["detail"]).empty() && str(a["status"]["detail"]) != "-") {
    out << " (" << str(a["status"]["detail"]) << ")";
  }
  out << "\n";
  for (const auto& i : a["status"].value("instances", nlohmann::json::array())) {
    out << "Instance:  VM " << str(i["vm"]) << ": " << str(i["state"]) << " r" << str(i["release"]);
    const std::string detail = str(i["detail"]);
    if (!detail.empty() && detail != "-") out << " (" << detail.substr(0, detail.find('\n')) << ")";
    out << "\n";
  }
  out << "Kind:      " << spec.kind << "\n";
  if (!spec.image.empty()) out << "Image:     " << spec.image << "\n";
  out << "Command:   " << commandText(spec) << "\n"
      << "Ports:     " << portsText(spec) << "\n"
      << "Replicas:  " << spec.replicas << "\n"
      << "VM:        " << spec.vm.value_or("-") << "\n";
  for (const auto& [k, v] : spec.env) out << "Env:       " << k << "=" << v << "\n";
  for (const auto& s : spec.secrets) out << "Secret:    " << s.name << " v" << s.version << " (" << s.as << ")\n";
  if (spec.health.enabled()) out << "Health:    " << healthText(spec.health) << "\n";
  for (const auto& d : a.value("domains", nlohmann::json::array())) {
    out << "Domain:    " << str(d) << "\n";
  }
  for (const auto& u : a.value("urls", nlohmann::json::array())) out << "URL:       " << str(u) << "\n";
  return Status::ok();
}

Result<Row> appRow(const nlohmann::json& a) {
  BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, specIn(a, "app '" + str(a["name"]) + "'"));
  return Row{str(a["name"]), str(a["release"]),           stateOf(a),        spec.kind,
             std::to_string(spec.replicas), portsText(spec), commandText(spec)};
}

Result<Row> releaseRow(const nlohmann::json& r) {
  BERTH_ASSIGN_OR_RETURN(model::AppSpec spec, specIn(r, "release " + str(r["number"])));
  return Row{str(r["number"]), shortTime(r["created_at"]), str(r["created_by"]),
             outcomeOf(r),     portsText(spec),            commandText(spec)};
}

}  // namespace berth::cli
