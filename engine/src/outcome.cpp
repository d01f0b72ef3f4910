#include "tlschan/outcome.hpp"

namespace tlschan {

const char* to_string(Disposition d) {
  switch (d) {
    case Disposition::delivered: return "delivered";
    case Disposition::deferred: return "deferred";
    case Disposition::bounced: return "bounced";
  }
  return "?";
}

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::delivered_tls: return "delivered-tls";
    case Outcome::delivered_plain: return "delivered-plain";
    case Outcome::bounced: return "bounced";
    case Outcome::deferred: return "deferred";
  }
  return "?";
}

std::optional<Outcome> parse_outcome(std::string_view word) {
  for (const Outcome o : {Outcome::delivered_tls, Outcome::delivered_plain, Outcome::bounced, Outcome::deferred}) {
    if (word == to_string(o)) return o;
  }
  return std::nullopt;
}

Outcome outcome_of(Disposition d, bool tls) {
  switch (d) {
    case Disposition::delivered: return tls ? Outcome::delivered_tls : Outcome::delivered_plain;
    case Disposition::bounced: return Outcome::bounced;
    case Disposition::deferred: return Outcome::deferred;
  }
  return Outcome::deferred;
}

const char* to_string(Health h) {
  switch (h) {
    case Health::ok: return "ok";
    case Health::unavailable: return "unavailable";
    case Health::broken: return "broken";
  }
  return "?";
}

std::optional<Health> parse_health(std::string_view word) {
  for (const Health h : {Health::ok, Health::unavailable, Health::broken}) {
    if (word == to_string(h)) return h;
  }
  return std::nullopt;
}

}  // namespace tlschan
