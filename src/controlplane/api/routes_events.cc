#include "controlplane/api/render.h"
#include "controlplane/api/request_context.h"

namespace berth::controlplane {

namespace {
constexpr int kStreamBatch = 100;
// How often a waiting stream looks at the shutdown flag.
constexpr std::chrono::seconds kStreamTick{1};

Result<int64_t> parseSeq(const std::string& s, const char* what) {
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    if (used == s.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  return invalidArgument(std::string(what) + " must be a non-negative event sequence number");
}

std::string sseFrame(const store::Event& e) {
  return "id: " + std::to_string(e.seq) + "\nevent: " + e.action + "\ndata: " + renderOne(renderEvent, e) + "\n\n";
}
}  // namespace

Result<HttpResponse> handleEvents(RequestContext& c) {
  BERTH_ASSIGN_OR_RETURN(Paging paging, parsePaging(c.request));
  int64_t after = 0;
  if (!paging.after.empty()) {
    BERTH_ASSIGN_OR_RETURN(after, parseSeq(paging.after, "query parameter after"));
  }
  if (auto last = c.request.header("last-event-id")) {
    BERTH_ASSIGN_OR_RETURN(after, parseSeq(*last, "Last-Event-ID"));
  }
  std::optional<std::string> project;
  if (auto it = c.request.query.find("project"); it != c.request.query.end()) project = it->second;
  bool follow = c.request.query.count("follow") && c.request.query.at("follow") != "0";

  if (!follow) {
    // One more than asked tells whether another page exists, as the other lists do.
    auto events = c.services.events.list(c.who, after, project, paging.limit + 1);
    if (!events.isOk()) return events.status();
    store::Page<store::Event> page{std::move(events).value(), ""};
    if (page.items.size() > static_cast<size_t>(paging.limit)) {
      page.items.pop_back();
      page.next = std::to_string(page.items.back().seq);
    }
    return jsonResponse(200, renderPage(page, renderEvent));
  }

  // Check access before the 200 goes out; the stream itself re-reads with the same scope.
  BERTH_ASSIGN_OR_RETURN(auto scope, c.services.events.scope(c.who, project));
  HttpResponse r;
  r.content_type = "text/event-stream";
  EventService& event_log = c.services.events;
  Principal who = c.who;
  auto keepalive = c.event_keepalive;
  r.stream = [&event_log, who, scope, after, keepalive](StreamWriter& w) {
    int64_t cursor = after;
    // Events of other projects advance the global sequence too; wait past what was already seen.
    int64_t seen_global = after;
    auto last_write = std::chrono::steady_clock::now();
    if (!w.write(": berth event stream\n\n")) return;
    while (!w.stopping()) {
      int64_t global = event_log.lastSeq();
      auto events = event_log.list(who, cursor, scope, kStreamBatch);
      if (!events.isOk()) return;  // the store failed: end the stream; the client reconnects
      for (const auto& e : *events) {
        if (!w.write(sseFrame(e))) return;
        cursor = e.seq;
        last_write = std::chrono::steady_clock::now();
      }
      if (events->size() == static_cast<size_t>(kStreamBatch)) continue;
      seen_global = std::max({seen_global, global, cursor});
      event_log.waitForEvents(seen_global, kStreamTick);
      if (std::chrono::steady_clock::now() - last_write >= keepalive) {
        if (!w.write(": keepalive\n\n")) return;
        last_write = std::chrono::steady_clock::now();
      }
    }
  };
  return r;
}

}  // namespace berth::controlplane
