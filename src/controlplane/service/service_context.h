#pragma once
// What every resource service shares: the store that holds all state, the injected clock, and
// the one way a change is recorded (its audit event, written in the change's transaction).
//
// Thread-safe: holds only references; the Store serializes what goes through it. Not owned
// here: the store and the clock must outlive the context and every service built on it.

#include <optional>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "controlplane/auth/principal.h"
#include "controlplane/service/host_ports.h"
#include "controlplane/service/network_allocator.h"
#include "store/store.h"

namespace berth::controlplane {

struct ServiceContext {
  store::Store& store;
  const Clock& clock;
  // Where project subnets come from (berthd --project-subnets).
  NetworkPool networks;
  // The host ports apps may claim (berthd --host-ports).
  HostPortRange host_ports;
  // Where every app has a default name, <app>.<project>.<base_domain> (berthd --base-domain,
  // normalized); empty: apps have only the domains their projects add.
  std::string base_domain;

  // The audit event of `who` doing `action` on `object`, stamped now; append it in the
  // transaction that makes the change, so a change and its event commit together.
  store::Event event(const Principal& who, std::string action, std::optional<std::string> project,
                     std::string object, nlohmann::json details = nlohmann::json::object()) const;

  // What `list(tx)` reads of `project` in one read transaction, NotFound if the project does
  // not exist (so an empty list always means an existing, empty project).
  template <typename List>
  auto listInProject(const std::string& project, List list) const
      -> Result<typename std::invoke_result_t<List, store::Tx&>::value_type> {
    typename std::invoke_result_t<List, store::Tx&>::value_type out;
    BERTH_RETURN_IF_ERROR(store.read([&](store::Tx& tx) {
      BERTH_RETURN_IF_ERROR(tx.getProject(project).status());
      BERTH_ASSIGN_OR_RETURN(out, list(tx));
      return Status::ok();
    }));
    return out;
  }
};

// `if_match` arguments of the services: the version the caller last saw; nullopt skips the
// check. VersionMismatch naming the object when it moved on.
Status checkVersion(std::optional<int64_t> if_match, int64_t current, const std::string& object);

}  // namespace berth::controlplane
