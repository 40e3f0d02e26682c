#pragma once
// API tokens: who may call, as what. Authenticates bearer secrets (through a cache of
// principals, so a request costs no store read), makes the first admin token, and creates,
// lists and revokes tokens. Every change is written with its audit event in one transaction.
//
// Thread-safe: all state lives in the Store except the principal cache, which has its mutex.

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "controlplane/service/service_context.h"

namespace berth::controlplane {

struct CreatedToken {
  store::Token token;
  std::string secret;  // shown once, never stored
};

class TokenService {
 public:
  // `context` must outlive this.
  explicit TokenService(const ServiceContext& context) : ctx_(context) {}

  // Authenticates a bearer secret; Unauthenticated if unknown or revoked.
  Result<Principal> authenticate(const std::string& secret);
  // Creates the first admin token if the store has no tokens; returns its secret then, else nullopt.
  Result<std::optional<std::string>> bootstrapAdminToken();

  Result<CreatedToken> create(const Principal& who, const std::string& name, Role role,
                              const std::optional<std::string>& project);
  Result<store::Page<store::Token>> list(const Principal& who, const std::string& after, int limit);
  Status remove(const Principal& who, const std::string& id);

  // Call after any commit that removed tokens (a project's deletion takes its tokens with it):
  // no cached principal may outlive its token.
  void forgetPrincipals();

 private:
  Result<store::Token> makeToken(const std::string& name, Role role, const std::optional<std::string>& project,
                                 const std::string& created_by, std::string* secret) const;

  const ServiceContext& ctx_;

  // Principals by token hash. A lookup that raced with a revocation sees a newer generation and
  // does not cache what it read. (Several berthd replicas on PostgreSQL will invalidate through
  // LISTEN/NOTIFY.)
  std::mutex principals_mu_;
  std::unordered_map<std::string, Principal> principals_;
  uint64_t principals_generation_ = 0;
};

}  // namespace berth::controlplane
