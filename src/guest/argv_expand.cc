#include "guest/argv_expand.h"

#include <map>

namespace berth::guest {

std::vector<std::string> expandArgv(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::map<std::string, std::string, std::less<>> values;
  for (const std::string& entry : env) {
    const auto eq = entry.find('=');
    if (eq != std::string::npos) values[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const std::string& arg : argv) {
    std::string expanded;
    for (std::size_t i = 0; i < arg.size(); ++i) {
      if (arg[i] != '$' || i + 1 == arg.size()) {
        expanded += arg[i];
        continue;
      }
      if (arg[i + 1] == '$') {
        expanded += '$';
        ++i;
        continue;
      }
      const auto close = arg[i + 1] == '(' ? arg.find(')', i + 2) : std::string::npos;
      if (close == std::string::npos) {
        expanded += arg[i];
        continue;
      }
      const std::string_view name(arg.data() + i + 2, close - i - 2);
      if (auto it = values.find(name); it != values.end()) {
        expanded += it->second;
      } else {
        expanded.append(arg, i, close - i + 1);
      }
      i = close;
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

}  // namespace berth::guest
