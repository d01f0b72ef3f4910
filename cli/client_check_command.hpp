#pragma once

#include <CLI/CLI.hpp>

namespace tlschan::cli {

// `tlschan client-check`: a hostile receiving server that grades an SMTP client's TLS policy.
void add_client_check_command(CLI::App& app, int& exit_code);

}  // namespace tlschan::cli
