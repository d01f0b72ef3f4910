// The address and port of one end of a connected socket, for the evidence pcapng's note of the
// real ends: `peer` the far end, else the local one; {"?", 0} when the socket cannot say.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace tlschan::audit {

std::pair<std::string, std::uint16_t> socket_end(int fd, bool peer);

}  // namespace tlschan::audit
