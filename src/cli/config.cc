#include "cli/config.h"

#include <nlohmann/json.hpp>

#include "os/file_util.h"

namespace berth::cli {

namespace {
std::optional<std::string> lookup(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  if (it == env.end() || it->second.empty()) return std::nullopt;
  return it->second;
}
}  // namespace

std::string configPath(const std::map<std::string, std::string>& env) {
  if (auto xdg = lookup(env, "XDG_CONFIG_HOME")) return *xdg + "/berth/config.json";
  return lookup(env, "HOME").value_or(".") + "/.config/berth/config.json";
}

Result<std::optional<Credentials>> loadConfig(const std::string& path) {
  auto text = os::readFile(path);
  if (!text.isOk()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<Credentials>();
    return text.status();
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("url") || !j["url"].is_string() || !j.contains("token") ||
      !j["token"].is_string()) {
    return invalidArgument("the config file '" + path + "' is damaged; run 'berth login' again");
  }
  return std::optional<Credentials>(Credentials{j["url"].get<std::string>(), j["token"].get<std::string>()});
}

Status saveConfig(const std::string& path, const Credentials& c) {
  std::string dir = path.substr(0, path.rfind('/'));
  BERTH_RETURN_IF_ERROR(os::makeDirs(dir, 0700));
  nlohmann::json j = {{"url", c.url}, {"token", c.token}};
  return os::writeFileAtomic(path, j.dump(2) + "\n", 0600);
}

Result<std::string> readTokenFile(const std::string& path) {
  auto text = os::readFile(path);
  if (!text.isOk()) return text.status().withContext("cannot read the token file");
  std::string token = text->substr(0, text->find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return invalidArgument("the token file '" + path + "' is empty");
  return token;
}

Result<Credentials> resolveCredentials(const CredentialSources& s) {
  Credentials c;
  if (s.file) c = *s.file;
  if (auto url = lookup(s.env, "BERTH_URL")) c.url = *url;
  if (auto token = lookup(s.env, "BERTH_TOKEN")) c.token = *token;
  if (s.flag_url) c.url = *s.flag_url;
  if (s.flag_token_file) {
    BERTH_ASSIGN_OR_RETURN(c.token, readTokenFile(*s.flag_token_file));
  }
  if (c.url.empty() || c.token.empty()) {
    return failedPrecondition("not logged in; run 'berth login URL --token-file FILE'");
  }
  return c;
}

}  // namespace berth::cli
