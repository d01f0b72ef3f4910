#include "tlschan/sim/default_config.hpp"

#include "embedded_default_config.hpp"

namespace tlschan::sim {

ConfigText default_config_text() {
  ConfigText text;
  text.imta_cnf = embedded::default_imta_cnf;
  text.imta_cnf_name = "default/imta.cnf";
  text.dispatcher_cnf = embedded::default_dispatcher_cnf;
  text.dispatcher_cnf_name = "default/dispatcher.cnf";
  return text;
}

}  // namespace tlschan::sim
