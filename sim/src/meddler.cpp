#include "tlschan/sim/meddler.hpp"

#include <array>
#include <cctype>

namespace tlschan::sim {

namespace {

constexpr std::size_t max_held_line = 4096;  // a longer line is let through unread

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string_view without_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

constexpr std::array<const char*, 6> names{"none", "strip", "refuse", "tamper", "inject-command", "inject-response"};

}  // namespace

const char* to_string(MeddlerKind k) { return names[static_cast<std::size_t>(k)]; }

std::optional<MeddlerKind> parse_meddler(std::string_view name) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) return static_cast<MeddlerKind>(i);
  }
  return std::nullopt;
}

Meddler::Meddler(MeddlerKind kind, Prng prng, bool tls_from_start) : kind_(kind), prng_(prng), tls_(tls_from_start) {}

MeddlerOutput Meddler::client_to_server(std::string_view bytes) {
  MeddlerOutput out;
  if (tls_ || kind_ == MeddlerKind::none) {
    out.forward.assign(bytes);
    return out;
  }
  client_partial_.append(bytes);
  std::size_t start = 0;
  while (true) {
    const auto lf = client_partial_.find('\n', start);
    if (lf == std::string::npos) break;
    client_line(std::string_view(client_partial_).substr(start, lf + 1 - start), out);
    start = lf + 1;
  }
  client_partial_.erase(0, start);
  if (client_partial_.size() > max_held_line) {
    out.forward += client_partial_;
    client_partial_.clear();
  }
  return out;
}

void Meddler::client_line(std::string_view line, MeddlerOutput& out) {
  const std::string_view text = without_line_end(line);
  if (client_in_data_) {
    if (text == ".") client_in_data_ = false;
    out.forward.append(line);
    return;
  }
  if (iequals_prefix(text, "DATA") && text.size() == 4) client_in_data_ = true;
  if (!(iequals_prefix(text, "STARTTLS") && text.size() == 8)) {
    out.forward.append(line);
    return;
  }
  switch (kind_) {
    case MeddlerKind::refuse:
      // The STARTTLS never reaches the server; the meddler answers it.
      out.answer += "454 4.7.0 TLS not available\r\n";
      out.acts.push_back({MeddlerAct::What::dropped, 0, std::string(line), {}});
      out.acts.push_back({MeddlerAct::What::answered, 0, "454 4.7.0 TLS not available\r\n", {}});
      acted_ = true;
      return;
    case MeddlerKind::inject_command:
      out.forward.append(line);
      out.acts.push_back({MeddlerAct::What::injected, out.forward.size(),
                          "NOOP\r\nMAIL FROM:<injected@meddler.test>\r\nRCPT TO:<victim@meddler.test>\r\n", {}});
      out.forward += out.acts.back().bytes;
      out.atomic = true;
      acted_ = true;
      break;
    default:
      out.forward.append(line);
      break;
  }
  starttls_pending_ = true;
}

MeddlerOutput Meddler::server_to_client(std::string_view bytes) {
  MeddlerOutput out;
  if (kind_ == MeddlerKind::none) {
    out.forward.assign(bytes);
    return out;
  }
  if (tls_) {
    out.forward.assign(bytes);
    if (kind_ == MeddlerKind::tamper) tamper_records(out.forward, 0, out);
    return out;
  }
  server_partial_.append(bytes);
  std::size_t start = 0;
  while (!tls_) {
    const auto lf = server_partial_.find('\n', start);
    if (lf == std::string::npos) break;
    server_line(std::string_view(server_partial_).substr(start, lf + 1 - start), out);
    start = lf + 1;
  }
  if (tls_) {
    // Whatever followed the 220 in this batch is the server's first TLS bytes.
    std::string rest = server_partial_.substr(start);
    if (kind_ == MeddlerKind::tamper) tamper_records(rest, out.forward.size(), out);
    out.forward += rest;
    server_partial_.clear();
    return out;
  }
  server_partial_.erase(0, start);
  if (server_partial_.size() > max_held_line) {
    out.forward += server_partial_;
    server_partial_.clear();
  }
  return out;
}

void Meddler::server_line(std::string_view line, MeddlerOutput& out) {
  const std::string_view text = without_line_end(line);
  if (kind_ == MeddlerKind::strip && (iequals_prefix(text, "250-STARTTLS") || iequals_prefix(text, "250 STARTTLS"))) {
    // The classic strip: the keyword overwritten in place, so the reply stays well formed.
    std::string changed(line);
    changed.replace(4, 8, "XXXXXXXA");
    out.acts.push_back({MeddlerAct::What::changed, out.forward.size() + 4, "XXXXXXXA", std::string(line.substr(4, 8))});
    out.forward += changed;
    acted_ = true;
    return;
  }
  out.forward.append(line);
  const bool final_line = text.size() < 4 || text[3] != '-';
  if (!starttls_pending_ || !final_line) return;
  starttls_pending_ = false;
  if (text.substr(0, 3) != "220") return;
  tls_ = true;
  if (kind_ == MeddlerKind::inject_response) {
    out.acts.push_back({MeddlerAct::What::injected, out.forward.size(), "250-fake.meddler.test\r\n250 AUTH PLAIN\r\n", {}});
    out.forward += out.acts.back().bytes;
    out.atomic = true;
    acted_ = true;
  }
}

void Meddler::tamper_records(std::string& bytes, std::size_t at, MeddlerOutput& out) {
  // Flips one byte inside the random of the server's first handshake record (the ServerHello), never a
  // record header: the handshake transcripts then disagree and the handshake fails.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char& c = bytes[i];
    if (tampered_) return;
    if (payload_left_ == 0) {
      record_header_.push_back(c);
      if (record_header_.size() == 5) {
        payload_left_ = (static_cast<unsigned char>(record_header_[3]) << 8) | static_cast<unsigned char>(record_header_[4]);
        flipping_record_ = record_header_[0] == 22 && payload_left_ > 38;
        payload_pos_ = 0;
        if (flipping_record_) flip_at_ = 6 + prng_.below(32);
        record_header_.clear();
      }
      continue;
    }
    if (flipping_record_ && payload_pos_ == flip_at_) {
      const char was = c;
      c = static_cast<char>(c ^ 0x5a);
      out.acts.push_back({MeddlerAct::What::changed, at + i, std::string(1, c), std::string(1, was)});
      tampered_ = true;
      acted_ = true;
    }
    ++payload_pos_;
    --payload_left_;
  }
}

std::string Meddler::flush_client() {
  std::string s = std::move(client_partial_);
  client_partial_.clear();
  return s;
}

std::string Meddler::flush_server() {
  std::string s = std::move(server_partial_);
  server_partial_.clear();
  return s;
}

}  // namespace tlschan::sim
