// The oracle keeps its own words, written from semantics.md alone; this is the one place where the
// engine's and the simulator's words are mapped onto them, one by one.
#pragma once

#include "tlschan/oracle/outcome_oracle.hpp"
#include "tlschan/outcome.hpp"
#include "tlschan/policy.hpp"
#include "tlschan/sim/meddler.hpp"

namespace tlschan::matrix {

inline oracle::Pol to_oracle(Policy p) {
  switch (p) {
    case Policy::no: return oracle::Pol::no;
    case Policy::may: return oracle::Pol::may;
    case Policy::must: return oracle::Pol::must;
  }
  return oracle::Pol::no;
}

inline oracle::Health to_oracle(Health h) {
  switch (h) {
    case Health::ok: return oracle::Health::ok;
    case Health::unavailable: return oracle::Health::unavailable;
    case Health::broken: return oracle::Health::broken;
  }
  return oracle::Health::ok;
}

inline oracle::Adversary to_oracle(sim::MeddlerKind k) {
  switch (k) {
    case sim::MeddlerKind::none: return oracle::Adversary::none;
    case sim::MeddlerKind::strip: return oracle::Adversary::strip;
    case sim::MeddlerKind::refuse: return oracle::Adversary::refuse;
    case sim::MeddlerKind::tamper: return oracle::Adversary::tamper;
    case sim::MeddlerKind::inject_command: return oracle::Adversary::inject_command;
    case sim::MeddlerKind::inject_response: return oracle::Adversary::inject_response;
  }
  return oracle::Adversary::none;
}

inline Outcome from_oracle(oracle::Outcome o) {
  switch (o) {
    case oracle::Outcome::delivered_tls: return Outcome::delivered_tls;
    case oracle::Outcome::delivered_plain: return Outcome::delivered_plain;
    case oracle::Outcome::bounced: return Outcome::bounced;
    case oracle::Outcome::deferred: return Outcome::deferred;
  }
  return Outcome::deferred;
}

inline oracle::Outcome to_oracle(Outcome o) {
  switch (o) {
    case Outcome::delivered_tls: return oracle::Outcome::delivered_tls;
    case Outcome::delivered_plain: return oracle::Outcome::delivered_plain;
    case Outcome::bounced: return oracle::Outcome::bounced;
    case Outcome::deferred: return oracle::Outcome::deferred;
  }
  return oracle::Outcome::deferred;
}

}  // namespace tlschan::matrix
