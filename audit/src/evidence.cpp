#include "tlschan/audit/evidence.hpp"

#include <filesystem>
#include <fstream>

#include "tlschan/sim/transcript.hpp"
#include "tlschan/views/run_pcap.hpp"

namespace tlschan::audit {

nlohmann::ordered_json exchange_json(const Exchange& exchange) {
  auto entries = nlohmann::ordered_json::array();
  for (const auto& e : exchange.entries()) {
    nlohmann::ordered_json j{{"connection", e.connection}, {"ms", e.at.count()}};
    switch (e.kind) {
      case ExchangeEntry::Kind::event: j["event"] = e.text; break;
      case ExchangeEntry::Kind::client_bytes:
      case ExchangeEntry::Kind::server_bytes:
        j["direction"] = direction(e.kind);
        j["text"] = e.text;
        break;
      case ExchangeEntry::Kind::client_tls:
      case ExchangeEntry::Kind::server_tls:
        j["direction"] = direction(e.kind);
        j["tls_bytes"] = e.length;
        break;
      case ExchangeEntry::Kind::client_inside_tls:
      case ExchangeEntry::Kind::server_inside_tls:
        j["direction"] = direction(e.kind);
        j["inside_tls"] = true;
        j["text"] = e.text;
        break;
    }
    entries.push_back(std::move(j));
  }
  return entries;
}

nlohmann::ordered_json finding_json(const Finding& f) {
  return {{"id", f.id},
          {"group", f.group},
          {"verdict", to_string(f.outcome.verdict)},
          {"reason", f.outcome.reason},
          {"decided_by", f.outcome.decided_by},
          {"exchange", exchange_json(f.exchange)}};
}

std::string evidence_transcript(const std::string& tool, const std::vector<std::pair<std::string, std::string>>& header,
                                const Finding& f) {
  std::string out = "tlschan ";
  out += tool;
  out += " evidence v1\n";
  out += "openssl " + sim::openssl_version() + "\n";
  for (const auto& [key, value] : header) out += key + " " + value + "\n";
  out += std::string("verdict ") + to_string(f.outcome.verdict) + "\n";
  out += "reason " + f.outcome.reason + "\n";
  if (!f.outcome.decided_by.empty()) out += "decided-by " + f.outcome.decided_by + "\n";
  out += "run\n";
  out += f.exchange.transcript_body();
  out += "end\n";
  return out;
}

std::string evidence_text(const Finding& f, const std::string& target) {
  return evidence_transcript("probe", {{"target", target}, {"check", f.id + " (" + f.group + ")"}}, f);
}

Expected<std::string, std::string> write_evidence(const std::string& dir, const Finding& f, const std::string& target) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unexpected(dir + ": cannot create the folder: " + ec.message());
  const std::string path = (std::filesystem::path(dir) / (f.id + ".txt")).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << evidence_text(f, target);
  out.close();
  if (!out) return unexpected(path + ": cannot write the evidence file");
  if (auto pcap = write_evidence_pcapng(path, f.exchange); !pcap) return unexpected(pcap.error());
  return path;
}

Expected<std::string, std::string> write_evidence_pcapng(const std::string& transcript_path, const Exchange& exchange) {
  if (exchange.wire().empty()) return std::string();
  return views::write_bytes(views::pcapng_path_beside(transcript_path), exchange.wire().pcapng());
}

}  // namespace tlschan::audit
