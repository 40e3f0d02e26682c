#include "common/ipv4.h"

#include <algorithm>

namespace berth {

std::string formatIpv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
         std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
}

std::string Ipv4Cidr::toString() const { return formatIpv4(base) + "/" + std::to_string(prefix); }

Result<uint32_t> parseIpv4(const std::string& text) {
  auto bad = [&] { return invalidArgument("'" + text + "' is not an IPv4 address"); };
  if (text.empty() || text.size() > 15) return bad();
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    uint32_t part = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
      part = part * 10 + static_cast<uint32_t>(text[i] - '0');
      ++i;
    }
    const size_t digits = i - start;
    if (digits == 0 || part > 255 || (digits > 1 && text[start] == '0')) return bad();
    out = (out << 8) | part;
    if (++parts == 4) break;
    if (i >= text.size() || text[i] != '.') return bad();
    ++i;
  }
  if (i != text.size()) return bad();
  return out;
}

Result<Ipv4Cidr> parseIpv4Cidr(const std::string& text, const std::string& what) {
  const size_t slash = text.find('/');
  const std::string prefix_text = slash == std::string::npos ? "" : text.substr(slash + 1);
  const bool prefix_ok = !prefix_text.empty() && prefix_text.size() <= 2 &&
                         std::all_of(prefix_text.begin(), prefix_text.end(),
                                     [](char c) { return c >= '0' && c <= '9'; });
  if (!prefix_ok || std::stoi(prefix_text) > 32) {
    return invalidArgument(what + " '" + text +
                           "' is not an IPv4 network in CIDR form, such as 10.64.0.0/10");
  }
  auto address = parseIpv4(text.substr(0, slash));
  if (!address.isOk()) return invalidArgument(what + ": " + address.status().message());
  Ipv4Cidr cidr{*address, std::stoi(prefix_text)};
  const uint64_t host_mask = cidr.size() - 1;
  if ((cidr.base & host_mask) != 0) {
    Ipv4Cidr network{static_cast<uint32_t>(cidr.base & ~host_mask), cidr.prefix};
    return invalidArgument(what + " '" + text + "' has host bits set; did you mean " +
                           network.toString() + "?");
  }
  return cidr;
}

}  // namespace berth
