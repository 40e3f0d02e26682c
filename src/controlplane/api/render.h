#pragma once
// JSON representations of stored objects, as docs/api.md and openapi.json describe them. Each
// render function appends one object to a JsonWriter.

#include "controlplane/api/json_writer.h"
#include "controlplane/service/project_service.h"

namespace berth::controlplane {

void renderProject(JsonWriter& w, const ProjectView& view);
void renderVm(JsonWriter& w, const store::Vm& vm);
void renderApp(JsonWriter& w, const store::App& app);
void renderRelease(JsonWriter& w, const store::Release& release);
void renderToken(JsonWriter& w, const store::Token& token);
void renderEvent(JsonWriter& w, const store::Event& event);
void renderNode(JsonWriter& w, const store::Node& node);

// One object alone, as a string.
template <typename T>
std::string renderOne(void (*render)(JsonWriter&, const T&), const T& item) {
  JsonWriter w;
  render(w, item);
  return w.take();
}

// {"items": [...], "next": cursor-or-null}
template <typename T>
std::string renderPage(const store::Page<T>& page, void (*render)(JsonWriter&, const T&)) {
  JsonWriter w;
  w.reserve(256 * (page.items.size() + 1));  // about one object's size each: no regrowth while writing
  w.beginObject().key("items").beginArray();
  for (const auto& item : page.items) render(w, item);
  w.endArray().key("next");
  if (page.next.empty()) {
    w.null();
  } else {
    w.value(page.next);
  }
  w.endObject();
  return w.take();
}

}  // namespace berth::controlplane
