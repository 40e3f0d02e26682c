#pragma once
// Where the CLI finds its server and token. Precedence: flags (--url, --token-file), then
// BERTH_URL / BERTH_TOKEN, then the config file written by `berth login`
// ($XDG_CONFIG_HOME/berth/config.json, else ~/.config/berth/config.json, mode 0600).

#include <map>
#include <optional>
#include <string>

#include "common/result.h"

namespace berth::cli {

struct Credentials {
  std::string url;
  std::string token;
};

// The config file's path, from an environment lookup (injected for tests).
std::string configPath(const std::map<std::string, std::string>& env);

Result<std::optional<Credentials>> loadConfig(const std::string& path);
Status saveConfig(const std::string& path, const Credentials& c);

// Reads a token file: its first line, trimmed; an empty file is an error.
Result<std::string> readTokenFile(const std::string& path);

struct CredentialSources {
  std::optional<std::string> flag_url;
  std::optional<std::string> flag_token_file;
  std::map<std::string, std::string> env;
  std::optional<Credentials> file;
};

// Combines the sources by precedence; FailedPrecondition "not logged in" if no URL or token.
Result<Credentials> resolveCredentials(const CredentialSources& s);

}  // namespace berth::cli
