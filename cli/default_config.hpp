#pragma once

#include "tlschan/config.hpp"

namespace tlschan::cli {

// The default configuration (corpus/configs/default, embedded at build time), used where a command
// is given no --config. Its diagnostics name the files default/imta.cnf and default/dispatcher.cnf.
ConfigText default_config_text();

}  // namespace tlschan::cli
