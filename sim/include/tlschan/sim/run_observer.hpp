// A narrow window on a simulator run for the views (the pcapng writer): what each connection
// carried, as each side received it, in virtual time, and the TLS key log of every handshake. The
// run calls it only when one is given; without one, a run and its transcript are the same.
#pragma once

#include <string>
#include <string_view>

#include "tlschan/time.hpp"

namespace tlschan::sim {

class RunObserver {
 public:
  virtual ~RunObserver() = default;

  // A connection opens (its TCP handshake). `client` and `server` name the hosts (the scenario's
  // names; a scripted client is "script1", ...); `tls_port`: the server's TLS port (implicit TLS).
  virtual void connection_opened(int id, std::string_view client, std::string_view server, bool tls_port, Time at) = 0;
  // A segment as the receiving side got it (`c2s`: the server received it). `meddled`: what a
  // meddler did to these bytes ("" when nothing).
  virtual void segment(int id, bool c2s, std::string_view bytes, Time at, std::string_view meddled) = 0;
  // The sender of direction `c2s` closed its side (FIN), as the other side saw it.
  virtual void closed(int id, bool c2s, Time at) = 0;
  // The connection was reset (both sides see it).
  virtual void reset(int id, Time at) = 0;
  // One line of the NSS key log (SSLKEYLOGFILE) of a handshake, without its line end.
  virtual void key_log(std::string_view line) = 0;
};

}  // namespace tlschan::sim
