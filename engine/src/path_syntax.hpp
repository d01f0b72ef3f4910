// Syntax of the MAIL and RCPT arguments (RFC 5321 4.1.2), shared by the server session only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlschan::detail {

enum class ArgError {
  syntax,         // 501 5.5.4
  bad_parameter,  // 555 5.5.4
};

struct MailArgs {
  std::string path;  // without angle brackets
  std::optional<std::uint64_t> size;
};

struct RcptArgs {
  std::string path;
};

// `args` is what follows the verb: "FROM:<a@b> SIZE=10" or "TO:<a@b>". The keyword is
// case-insensitive; spaces after the colon are tolerated.
std::optional<ArgError> parse_mail_args(std::string_view args, MailArgs& out);
std::optional<ArgError> parse_rcpt_args(std::string_view args, RcptArgs& out);

bool iequals(std::string_view a, std::string_view b);

}  // namespace tlschan::detail
