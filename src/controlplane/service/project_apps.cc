#include "controlplane/service/project_apps.h"

namespace berth::controlplane {

Result<std::vector<store::App>> allApps(store::Tx& tx, const std::string& project) {
  std::vector<store::App> out;
  std::string after;
  do {
    BERTH_ASSIGN_OR_RETURN(auto page, tx.listApps(project, after, 1000));
    for (auto& app : page.items) out.push_back(std::move(app));
    after = page.next;
  } while (!after.empty());
  return out;
}

}  // namespace berth::controlplane
