#include "path_syntax.hpp"

#include "ascii_case.hpp"

namespace tlschan::detail {

namespace {

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// "<...>" at the front of `s`; the rest (parameters) is left in `s`.
std::optional<std::string> take_path(std::string_view& s) {
  if (s.empty() || s.front() != '<') return std::nullopt;
  const auto close = s.find('>');
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view inner = s.substr(1, close - 1);
  for (const char c : inner) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<') return std::nullopt;
  }
  // A source route "@a,@b:user@d" is accepted and dropped, as RFC 5321 4.1.1.3 allows.
  std::string_view mailbox = inner;
  if (!mailbox.empty() && mailbox.front() == '@') {
    const auto colon = mailbox.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    mailbox.remove_prefix(colon + 1);
  }
  if (!mailbox.empty()) {
    const auto at = mailbox.rfind('@');
    // A mailbox needs a local part and, when it names one, a domain.
    if (at == 0 || (at != std::string_view::npos && at + 1 == mailbox.size())) return std::nullopt;
  }
  s.remove_prefix(close + 1);
  return std::string(mailbox);
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper_octet(a[i]) != upper_octet(b[i])) return false;
  }
  return true;
}

std::optional<ArgError> parse_mail_args(std::string_view args, MailArgs& out) {
  if (!istarts_with(args, "FROM:")) return ArgError::syntax;
  std::string_view rest = args.substr(5);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto path = take_path(rest);
  if (!path) return ArgError::syntax;
  out.path = std::move(*path);
  if (!rest.empty() && rest.front() != ' ') return ArgError::syntax;
  rest = trim_spaces(rest);
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    const std::string_view param = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : trim_spaces(rest.substr(space));
    const auto eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (iequals(key, "SIZE")) {
      const auto n = parse_number(value);
      if (!n) return ArgError::syntax;
      out.size = n;
    } else if (iequals(key, "BODY")) {
      if (!iequals(value, "7BIT") && !iequals(value, "8BITMIME")) return ArgError::bad_parameter;
    } else {
      return ArgError::bad_parameter;
    }
  }
  return std::nullopt;
}

std::optional<ArgError> parse_rcpt_args(std::string_view args, RcptArgs& out) {
  if (!istarts_with(args, "TO:")) return ArgError::syntax;
  std::string_view rest = args.substr(3);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto path = take_path(rest);
  if (!path || path->empty()) return ArgError::syntax;
  out.path = std::move(*path);
  if (!rest.empty() && rest.front() != ' ') return ArgError::syntax;
  if (!trim_spaces(rest).empty()) return ArgError::bad_parameter;
  return std::nullopt;
}

}  // namespace tlschan::detail
