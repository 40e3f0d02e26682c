#pragma once
// JSON representations of stored objects, as docs/api.md and openapi.json describe them.

#include <nlohmann/json.hpp>

#include "controlplane/service/control_plane.h"

namespace berth::controlplane {

nlohmann::json renderProject(const ProjectView& view);
nlohmann::json renderVm(const store::Vm& vm);
nlohmann::json renderApp(const store::App& app);
nlohmann::json renderRelease(const store::Release& release);
nlohmann::json renderToken(const store::Token& token);
nlohmann::json renderEvent(const store::Event& event);
nlohmann::json renderNode(const store::Node& node);

// {"items": [...], "next": cursor-or-null}
template <typename T, typename F>
nlohmann::json renderPage(const store::Page<T>& page, F render) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : page.items) items.push_back(render(item));
  return {{"items", items}, {"next", page.next.empty() ? nlohmann::json(nullptr) : nlohmann::json(page.next)}};
}

}  // namespace berth::controlplane
