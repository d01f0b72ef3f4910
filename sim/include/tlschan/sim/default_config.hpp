// The embedded default configuration (corpus/configs/default): what `tlschan matrix`, `route` and
// scenarios with `config = "default"` use, with or without the source tree.
#pragma once

#include "tlschan/config.hpp"

namespace tlschan::sim {

ConfigText default_config_text();

}  // namespace tlschan::sim
