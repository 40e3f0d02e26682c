#include "controlplane/api/request_context.h"

#include <charconv>

#include "controlplane/api/json_fields.h"

namespace berth::controlplane {

namespace {
std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
}  // namespace

Result<Paging> parsePaging(const HttpRequest& r) {
  Paging p;
  auto it = r.query.find("limit");
  if (it != r.query.end()) {
    auto n = parseInt(it->second);
    if (!n || *n < 1 || *n > 1000) return invalidArgument("query parameter limit must be an integer from 1 to 1000");
    p.limit = static_cast<int>(*n);
  }
  it = r.query.find("after");
  if (it != r.query.end()) p.after = it->second;
  return p;
}

Result<int64_t> queryInteger(const HttpRequest& request, const std::string& key, int64_t fallback, int64_t min,
                             int64_t max) {
  auto it = request.query.find(key);
  if (it == request.query.end()) return fallback;
  auto v = parseInt(it->second);
  if (!v || *v < min || *v > max) {
    return invalidArgument("query parameter " + key + " must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  return *v;
}

Result<std::optional<int64_t>> parseIfMatch(const HttpRequest& r) {
  auto h = r.header("if-match");
  if (!h || *h == "*") return std::optional<int64_t>();
  std::string_view v = *h;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto n = parseInt(v);
  if (!n) return invalidArgument("If-Match must be an object version such as \"3\", not '" + *h + "'");
  return std::optional<int64_t>(*n);
}

Result<nlohmann::json> jsonBody(const HttpRequest& r, bool empty_ok) { return parseJsonObject(r.body, empty_ok); }

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  // Text that came from a peer may not be UTF-8; nlohmann's default would throw on it.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse jsonResponse(int status, std::string serialized) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(serialized);
  return r;
}

HttpResponse objectResponse(int status, std::string serialized, int64_t version) {
  HttpResponse r = jsonResponse(status, std::move(serialized));
  r.setHeader("ETag", "\"" + std::to_string(version) + "\"");
  return r;
}

HttpResponse noContent() {
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace berth::controlplane
