// `A:P` on the command line: an address (or host name) and a port. IPv6 addresses go in brackets
// (`[::1]:2525`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tlschan/expected.hpp"

namespace tlschan::net {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// Port 0 is allowed (a listener then takes a free port); the error says what was found and what was
// expected.
Expected<HostPort, std::string> parse_host_port(std::string_view text);

std::string format_host_port(const HostPort& hp);

}  // namespace tlschan::net
