// rapidcheck generators of simulator scenarios. The simulator's seed is generated inside the
// property too, so that rapidcheck's reproduce string reproduces the network as well.
#pragma once

#include <rapidcheck.h>

#include "tlschan/sim/scenario.hpp"

namespace tlschan::props {

rc::Gen<Policy> gen_policy();
rc::Gen<sim::Health> gen_health();
rc::Gen<sim::MeddlerKind> gen_meddler();
rc::Gen<sim::FaultSpec> gen_fault();  // half of them inside the first connection's TLS handshake

// A may or must client and server, TLS ok or broken, and a reset, a clean close (truncate) or a
// stall inside the first connection's TLS handshake, in either direction.
rc::Gen<sim::Scenario> gen_handshake_fault_scenario();

// A cell of the matrix with random segmentation and latency, a random meddler, maybe a fault,
// maybe a tlsswitchchannel, one to three messages.
rc::Gen<sim::Scenario> gen_scenario();

}  // namespace tlschan::props
