#include "tlschan/sim/simulation.hpp"

#include "embedded_certs.hpp"
#include "run.hpp"
#include "tlschan/sim/deterministic_tls.hpp"

namespace tlschan::sim {

const char* to_string(FaultKind k) {
  switch (k) {
    case FaultKind::reset: return "reset";
    case FaultKind::stall: return "stall";
    case FaultKind::truncate: return "truncate";
  }
  return "?";
}

std::optional<FaultKind> parse_fault(std::string_view name) {
  for (const FaultKind k : {FaultKind::reset, FaultKind::stall, FaultKind::truncate}) {
    if (name == to_string(k)) return k;
  }
  return std::nullopt;
}

const char* simulator_certificate_pem() { return embedded::certificate_pem; }
const char* simulator_key_pem() { return embedded::key_pem; }

Expected<Simulator, std::string> Simulator::create() {
  std::string why;
  if (!install_deterministic_rand(&why)) return unexpected("cannot make OpenSSL deterministic: " + why);
  const TlsOptions pinned = pinned_tls_options();
  auto healthy = TlsContext::server_from_pem(embedded::certificate_pem, embedded::key_pem, pinned);
  auto broken = TlsContext::server_from_pem(embedded::certificate_pem, embedded::key_pem, broken_server_options(pinned));
  auto client = TlsContext::client(pinned);
  if (!healthy) return unexpected(healthy.error().message);
  if (!broken) return unexpected(broken.error().message);
  if (!client) return unexpected(client.error().message);
  return Simulator(std::move(*healthy), std::move(*broken), std::move(*client));
}

RunResult Simulator::run(const Scenario& scenario, std::uint64_t seed, std::string* transcript,
                         RunObserver* observer) const {
  detail::Run run(*this, scenario, seed, transcript, observer);
  return run.go();
}

}  // namespace tlschan::sim
