#include "controlplane/service/token_service.h"

#include "common/crypto.h"

namespace berth::controlplane {

namespace {
constexpr char kSecretPrefix[] = "berth_";
constexpr size_t kSecretBytes = 32;  // 256 bits
constexpr size_t kMaxCachedPrincipals = 10'000;
}  // namespace

void TokenService::forgetPrincipals() {
  std::lock_guard lock(principals_mu_);
  ++principals_generation_;
  principals_.clear();
}

Result<store::Token> TokenService::makeToken(const std::string& name, Role role,
                                             const std::optional<std::string>& project,
                                             const std::string& created_by, std::string* secret) const {
  BERTH_ASSIGN_OR_RETURN(std::string id_hex, randomHex(8));
  BERTH_ASSIGN_OR_RETURN(std::string secret_hex, randomHex(kSecretBytes));
  *secret = kSecretPrefix + secret_hex;
  store::Token t;
  t.id = "tok_" + id_hex;
  t.name = name;
  t.hash = sha256Hex(*secret);
  t.role = roleName(role);
  t.project = project;
  t.created_at = ctx_.clock.wallMillis();
  t.created_by = created_by;
  return t;
}

Result<Principal> TokenService::authenticate(const std::string& secret) {
  // Hash first: the lookup never sees the secret, and unknown secrets cost the same as known ones.
  std::string hash = sha256Hex(secret);
  uint64_t generation;
  {
    std::lock_guard lock(principals_mu_);
    auto it = principals_.find(hash);
    if (it != principals_.end()) return it->second;
    generation = principals_generation_;
  }
  std::optional<store::Token> token;
  Status s = ctx_.store.read([&](store::Tx& tx) {
    auto t = tx.getTokenByHash(hash);
    if (t.isOk()) token = std::move(t).value();
    return t.isOk() || t.status().code() == StatusCode::kNotFound ? Status::ok() : t.status();
  });
  BERTH_RETURN_IF_ERROR(s);
  if (!token) return unauthenticated("the token is not valid (unknown or revoked)");
  auto role = parseRole(token->role);
  if (!role) return internalError("token '" + token->id + "' has an unknown role '" + token->role + "'");
  Principal who{token->id, token->name, *role, token->project};
  std::lock_guard lock(principals_mu_);
  if (generation == principals_generation_) {
    if (principals_.size() >= kMaxCachedPrincipals) principals_.clear();
    principals_.emplace(hash, who);
  }
  return who;
}

Result<std::optional<std::string>> TokenService::bootstrapAdminToken() {
  std::optional<std::string> secret;
  Status s = ctx_.store.write([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(int64_t count, tx.countTokens());
    if (count > 0) return Status::ok();
    std::string value;
    BERTH_ASSIGN_OR_RETURN(store::Token t, makeToken("admin", Role::kAdmin, std::nullopt, "system", &value));
    BERTH_RETURN_IF_ERROR(tx.insertToken(t));
    Principal system{"system", "system", Role::kAdmin, std::nullopt};
    BERTH_RETURN_IF_ERROR(tx.appendEvent(ctx_.event(system, "token.create", std::nullopt, "tokens/" + t.id,
                                                    {{"name", t.name}, {"role", t.role}}))
                              .status());
    secret = value;
    return Status::ok();
  });
  BERTH_RETURN_IF_ERROR(s.withContext("cannot create the first admin token"));
  return secret;
}

Result<CreatedToken> TokenService::create(const Principal& who, const std::string& name, Role role,
                                          const std::optional<std::string>& project) {
  bool global = role == Role::kAdmin || role == Role::kNode;
  if (global && project) {
    return invalidArgument("a " + roleName(role) + " token is global; do not give it a project");
  }
  if (!global && !project) {
    return invalidArgument("a " + roleName(role) + " token needs a project");
  }
  BERTH_RETURN_IF_ERROR(authorize(who, project, global ? Access::kAdminOnly : Access::kManageTokens,
                                  "project '" + project.value_or("") + "'"));
  CreatedToken out;
  Status s = ctx_.store.write([&](store::Tx& tx) {
    if (project) BERTH_RETURN_IF_ERROR(tx.getProject(*project).status());
    BERTH_ASSIGN_OR_RETURN(out.token, makeToken(name, role, project, who.token_id, &out.secret));
    BERTH_RETURN_IF_ERROR(tx.insertToken(out.token));
    return tx.appendEvent(ctx_.event(who, "token.create", project, "tokens/" + out.token.id,
                                     {{"name", name}, {"role", out.token.role}}))
        .status();
  });
  BERTH_RETURN_IF_ERROR(s);
  return out;
}

Result<store::Page<store::Token>> TokenService::list(const Principal& who, const std::string& after, int limit) {
  BERTH_RETURN_IF_ERROR(authorize(who, who.project, Access::kManageTokens, "tokens"));
  store::Page<store::Token> page;
  BERTH_RETURN_IF_ERROR(ctx_.store.read([&](store::Tx& tx) {
    BERTH_ASSIGN_OR_RETURN(page, tx.listTokens(who.project, after, limit));
    return Status::ok();
  }));
  return page;
}

Status TokenService::remove(const Principal& who, const std::string& id) {
  Status s = ctx_.store.write([&](store::Tx& tx) {
    auto token = tx.getToken(id);
    // A project owner must not learn about tokens outside its project.
    if (!token.isOk()) return token.status();
    BERTH_RETURN_IF_ERROR(authorize(who, token->project,
                                    token->project ? Access::kManageTokens : Access::kAdminOnly,
                                    "token '" + id + "'"));
    BERTH_RETURN_IF_ERROR(tx.deleteToken(id));
    return tx.appendEvent(ctx_.event(who, "token.delete", token->project, "tokens/" + id, {{"name", token->name}}))
        .status();
  });
  if (s.isOk()) forgetPrincipals();
  return s;
}

}  // namespace berth::controlplane
