#pragma once
// The v1 REST API: turns HttpRequests into commands of the services (service/services.h) and
// their results into HttpResponses; it reaches the store only through them. Order of checks per
// request: source-address rate limit, the address's budget of failed logins, authentication,
// the token's rate limit, routing, body parsing, the command. Owns the session broker that
// relays exec, logs and console to agents.
// Thread-safe.

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "controlplane/auth/rate_limiter.h"
#include "controlplane/http/http_types.h"
#include "controlplane/service/services.h"

namespace berth::controlplane {

struct ApiOptions {
  RateLimit per_token{200, 400};
  RateLimit per_address{400, 800};
  // Bad tokens from one address: a small burst, then one try every few seconds.
  RateLimit auth_failures{0.2, 10};
  std::chrono::seconds event_keepalive{15};
  std::string blob_dir;  // where uploaded app bundles are kept (<data>/blobs)
};

class Metrics;

class Api {
 public:
  // `services` must outlive this.
  Api(Services& services, const Clock& clock, ApiOptions options);
  ~Api();
  HttpResponse handle(const HttpRequest& request);
  // True if handling the request never blocks: a GET that only reads the store. Anything that
  // writes waits for a group commit; long-polls and streams wait for news.
  static bool isQuick(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::controlplane
