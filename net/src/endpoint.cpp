#include "tlschan/net/endpoint.hpp"

#include <charconv>

namespace tlschan::net {

Expected<HostPort, std::string> parse_host_port(std::string_view text) {
  const auto expected = [&](std::string_view what) {
    return unexpected("found '" + std::string(text) + "', expected " + std::string(what));
  };
  std::string_view host;
  std::string_view rest;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return expected("ADDRESS:PORT with a ']' closing the IPv6 address");
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return expected("ADDRESS:PORT");
    host = text.substr(0, colon);
    rest = text.substr(colon);
  }
  if (host.empty() || !rest.starts_with(':')) return expected("ADDRESS:PORT");
  rest.remove_prefix(1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (rest.empty() || ec != std::errc{} || end != rest.data() + rest.size() || value > 65535) {
    return expected("ADDRESS:PORT with a port number from 0 to 65535");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string format_host_port(const HostPort& hp) {
  const bool v6 = hp.host.find(':') != std::string::npos;
  return (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
}

}  // namespace tlschan::net
