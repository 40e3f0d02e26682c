// berth: thin main over the CLI library.
#include <iostream>
#include <map>
#include <string>

#include "cli/context.h"

extern char** environ;

int main(int argc, char** argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return berth::cli::runCli(argc, argv, std::move(env), std::cout, std::cerr);
}
