// The dispatcher.cnf services (semantics.md section 6), the check of their incoming channels
// against the channel table, and loading a configuration folder.
#include "tlschan/dispatcher_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "tlschan/config.hpp"

namespace tlschan {
namespace {

using Words = std::vector<std::string>;

std::optional<DispatcherConfig> parse_dispatcher(std::string_view text) {
  auto r = parse_dispatcher_cnf(text, "dispatcher.cnf");
  if (!r) {
    ADD_FAILURE() << "unexpected errors:\n" << test::joined_lines(test::formatted(r.error()));
    return std::nullopt;
  }
  return std::move(r).value();
}

Words dispatcher_errors(std::string_view text) {
  auto r = parse_dispatcher_cnf(text, "dispatcher.cnf");
  if (r) {
    ADD_FAILURE() << "parsed, expected errors";
    return {};
  }
  return test::formatted(r.error());
}

std::vector<std::uint16_t> numbers(const std::vector<ServicePort>& ports) {
  std::vector<std::uint16_t> out;
  for (const ServicePort& p : ports) out.push_back(p.number);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Constructs

TEST(DispatcherCnf, GlobalOptionsThenServices_WithPortsTlsPortsChannelsAndPositions) {
  const auto config = parse_dispatcher(
      "! global options\n"
      "MIN_PROCS=0\n"
      "MAX_PROCS=5\n"
      "[SERVICE=SMTP]\n"
      "PORT=25\n"
      "TLS_PORT=465\n"
      "IMAGE=IMTA_BIN:tcp_smtp_server\n"
      "[SERVICE=SMTP_SUBMIT]\n"
      "PORT=587, 2587\n"
      "PARAMETER=CHANNEL=tcp_submit\n");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->file, "dispatcher.cnf");
  ASSERT_EQ(config->global_options.size(), 2u);
  EXPECT_EQ(config->global_options[0].name.text, "MIN_PROCS");
  EXPECT_EQ(config->global_options[0].name.position, (SourcePosition{2, 1}));
  EXPECT_EQ(config->global_options[0].value.text, "0");
  EXPECT_EQ(config->global_options[0].value.position, (SourcePosition{2, 11}));

  ASSERT_EQ(config->services.size(), 2u);
  const DispatcherService& smtp = config->services[0];
  EXPECT_EQ(smtp.name.text, "SMTP");
  EXPECT_EQ(smtp.name.position, (SourcePosition{4, 10}));
  EXPECT_EQ(numbers(smtp.ports), (std::vector<std::uint16_t>{25}));
  EXPECT_EQ(smtp.ports[0].position, (SourcePosition{5, 6}));
  EXPECT_EQ(numbers(smtp.tls_ports), (std::vector<std::uint16_t>{465}));
  EXPECT_EQ(smtp.tls_ports[0].position, (SourcePosition{6, 10}));
  EXPECT_EQ(smtp.options.size(), 3u);
  EXPECT_EQ(smtp.options[2].value.text, "IMTA_BIN:tcp_smtp_server");

  const DispatcherService& submit = config->services[1];
  EXPECT_EQ(numbers(submit.ports), (std::vector<std::uint16_t>{587, 2587}));
  EXPECT_EQ(submit.ports[1].position, (SourcePosition{9, 11}));
  EXPECT_TRUE(submit.tls_ports.empty());
  EXPECT_EQ(submit.channel.text, "tcp_submit");
  EXPECT_EQ(submit.channel.position, (SourcePosition{10, 19}));
}

TEST(DispatcherCnf, ServiceWithoutParameter_HandsConnectionsToTcpLocal) {
  const auto config = parse_dispatcher("[SERVICE=SMTP]\nPORT=25\n");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->services[0].channel.text, "tcp_local");
  EXPECT_EQ(config->services[0].channel.position.line, 0u);
}

TEST(DispatcherCnf, CommentsBlanksAndCase) {
  const auto config = parse_dispatcher(
      "  ! an indented comment\n"
      "\n"
      "[service=smtp]\n"
      "port = 25 ! a comment after the value\n"
      "parameter=channel=tcp_x\n"
      "LOGFILE=a!b=c\n");
  ASSERT_TRUE(config);
  const DispatcherService& s = config->services[0];
  EXPECT_EQ(s.name.text, "smtp");
  EXPECT_EQ(numbers(s.ports), (std::vector<std::uint16_t>{25}));
  EXPECT_EQ(s.ports[0].position, (SourcePosition{4, 8}));
  EXPECT_EQ(s.channel.text, "tcp_x");
  EXPECT_EQ(s.channel.position, (SourcePosition{5, 19}));
  EXPECT_EQ(s.options.back().value.text, "a!b=c");
}

TEST(DispatcherCnf, SeveralSmtpServices_EachWithItsOwnChannel) {
  const auto config = parse_dispatcher(
      "[SERVICE=SMTP]\nPORT=25\n"
      "[SERVICE=SMTP_SUBMIT]\nPORT=587\nTLS_PORT=465\nPARAMETER=CHANNEL=tcp_submit\n"
      "[SERVICE=SMTP_INTRANET]\nPORT=2525\nPARAMETER=CHANNEL=tcp_intranet\n");
  ASSERT_TRUE(config);
  ASSERT_EQ(config->services.size(), 3u);
  EXPECT_EQ(config->services[0].channel.text, "tcp_local");
  EXPECT_EQ(config->services[1].channel.text, "tcp_submit");
  EXPECT_EQ(config->services[2].channel.text, "tcp_intranet");
}

TEST(DispatcherCnf, GlobalPortsAndParameter_ApplyToServicesThatDoNotSetThem) {
  const auto config = parse_dispatcher(
      "PARAMETER=CHANNEL=tcp_x\n"
      "TLS_PORT=465\n"
      "[SERVICE=A]\n"
      "PORT=25\n"
      "[SERVICE=B]\n"
      "PORT=587\n"
      "TLS_PORT=2465\n"
      "PARAMETER=CHANNEL=tcp_y\n");
  ASSERT_TRUE(config);
  const DispatcherService& a = config->services[0];
  EXPECT_EQ(numbers(a.tls_ports), (std::vector<std::uint16_t>{465}));
  EXPECT_EQ(a.tls_ports[0].position, (SourcePosition{2, 10}));
  EXPECT_EQ(a.channel.text, "tcp_x");
  EXPECT_EQ(a.channel.position, (SourcePosition{1, 19}));
  const DispatcherService& b = config->services[1];
  EXPECT_EQ(numbers(b.tls_ports), (std::vector<std::uint16_t>{2465}));
  EXPECT_EQ(b.channel.text, "tcp_y");
}

TEST(DispatcherCnf, EmptyFileHasNoServices) {
  const auto config = parse_dispatcher("");
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->services.empty());
}

// ---------------------------------------------------------------------------------------------
// Errors, each with its exact position

TEST(DispatcherCnfErrors, MalformedSectionHeaders) {
  const std::string expected = ", expected [SERVICE=name] (name: letters, digits, '-', '_')";
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP\nPORT=25\n"),
            (Words{"dispatcher.cnf:1:1: error: found the section header '[SERVICE=SMTP'" + expected}));
  EXPECT_EQ(dispatcher_errors("PORT=25\n[PORT=25]\n"),
            (Words{"dispatcher.cnf:2:1: error: found the section header '[PORT=25]'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=]\n"),
            (Words{"dispatcher.cnf:1:1: error: found the section header '[SERVICE=]'" + expected}));
  EXPECT_EQ(dispatcher_errors("  [SERVICE=a b]\n"),
            (Words{"dispatcher.cnf:1:3: error: found the section header '[SERVICE=a b]'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SMTP]\n"),
            (Words{"dispatcher.cnf:1:1: error: found the section header '[SMTP]'" + expected}));
}

TEST(DispatcherCnfErrors, OptionLineWithoutEquals) {
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\n  PORT 25\n"),
            (Words{"dispatcher.cnf:2:3: error: found 'PORT 25', expected option=value or [SERVICE=name]"}));
}

TEST(DispatcherCnfErrors, OptionNameThatIsNotAWord) {
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPO RT=25\n"),
            (Words{"dispatcher.cnf:2:1: error: found the option name 'PO RT', expected letters, digits, '-' "
                   "and '_'"}));
  EXPECT_EQ(
      dispatcher_errors("=25\n"),
      (Words{"dispatcher.cnf:1:1: error: found the option name '', expected letters, digits, '-' and '_'"}));
}

TEST(DispatcherCnfErrors, InvalidPorts) {
  const std::string expected = ", expected a port number from 1 to 65535";
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT=0\n"),
            (Words{"dispatcher.cnf:2:6: error: found the PORT value '0'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT=65536\n"),
            (Words{"dispatcher.cnf:2:6: error: found the PORT value '65536'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT=99999999999999999999\n"),
            (Words{"dispatcher.cnf:2:6: error: found the PORT value '99999999999999999999'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nTLS_PORT=smtps\n"),
            (Words{"dispatcher.cnf:2:10: error: found the TLS_PORT value 'smtps'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT=-25\n"),
            (Words{"dispatcher.cnf:2:6: error: found the PORT value '-25'" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT=25,,587\n"),
            (Words{"dispatcher.cnf:2:9: error: found the PORT value ''" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT=\n"),
            (Words{"dispatcher.cnf:2:6: error: found PORT without a value" + expected}));
  EXPECT_EQ(dispatcher_errors("[SERVICE=SMTP]\nPORT = \n"),
            (Words{"dispatcher.cnf:2:7: error: found PORT without a value" + expected}));
}

TEST(DispatcherCnfErrors, PortOptionTwiceInOneSection) {
  EXPECT_EQ(
      dispatcher_errors("[SERVICE=SMTP]\nPORT=25\nport=26\n"),
      (Words{
          "dispatcher.cnf:3:1: error: found port again in this section, expected it once (first at 2:1)"}));
  EXPECT_EQ(
      dispatcher_errors("PARAMETER=CHANNEL=a\nPARAMETER=CHANNEL=b\n"),
      (Words{"dispatcher.cnf:2:1: error: found PARAMETER again in this section, expected it once (first at "
             "1:1)"}));
}

TEST(DispatcherCnfErrors, DuplicateService_IgnoringCase) {
  EXPECT_EQ(
      dispatcher_errors("[SERVICE=SMTP]\nPORT=25\n[SERVICE=smtp]\nPORT=26\n"),
      (Words{"dispatcher.cnf:3:10: error: found service 'smtp' again, expected each service once (first at "
             "1:10)"}));
}

TEST(DispatcherCnfErrors, ParameterThatIsNotChannel) {
  EXPECT_EQ(
      dispatcher_errors("[SERVICE=SMTP]\nPARAMETER=FOO=bar\n"),
      (Words{"dispatcher.cnf:2:11: error: found 'PARAMETER=FOO=bar', expected PARAMETER=CHANNEL=name"}));
  EXPECT_EQ(
      dispatcher_errors("[SERVICE=SMTP]\nPARAMETER=CHANNEL=\n"),
      (Words{"dispatcher.cnf:2:11: error: found 'PARAMETER=CHANNEL=', expected PARAMETER=CHANNEL=name"}));
}

TEST(DispatcherCnfErrors, PortServedTwice) {
  EXPECT_EQ(dispatcher_errors("[SERVICE=A]\nPORT=25\n[SERVICE=B]\nPORT=587\nTLS_PORT=25\n"),
            (Words{"dispatcher.cnf:5:10: error: found port 25 again for service 'B', expected each port once "
                   "(service 'A' has it at 2:6)"}));
  EXPECT_EQ(
      dispatcher_errors("[SERVICE=A]\nPORT=465\nTLS_PORT=465\n"),
      (Words{"dispatcher.cnf:3:10: error: found port 465 again for service 'A', expected each port once "
             "(service 'A' has it at 2:6)"}));
}

TEST(DispatcherCnfErrors, ControlCharacterAndEveryErrorInFileOrder) {
  EXPECT_EQ(dispatcher_errors("[SERVICE=A]\nPORT=0\nIMAGE=\x7f\n[X]\n"),
            (Words{
                "dispatcher.cnf:2:6: error: found the PORT value '0', expected a port number from 1 to 65535",
                "dispatcher.cnf:3:7: error: found the control character 0x7f, expected text",
                "dispatcher.cnf:4:1: error: found the section header '[X]', expected [SERVICE=name] (name: "
                "letters, digits, '-', '_')",
            }));
}

TEST(DispatcherCnfGarbage, RandomBytesAndALongLine_GiveErrorsNeverACrash) {
  std::mt19937 random(99);
  for (int round = 0; round < 50; ++round) {
    std::string text(static_cast<std::size_t>(random() % 20000), '\0');
    for (char& c : text) c = static_cast<char>(random() & 0xff);
    const auto r = parse_dispatcher_cnf(text, "dispatcher.cnf");
    if (!r) {
      EXPECT_LE(r.error().size(), 101u);
    }
  }
  EXPECT_EQ(dispatcher_errors("PORT=" + std::string(10 * 1024 * 1024, '5') + "\n"),
            (Words{"dispatcher.cnf:1:65537: error: found a line of 10485765 bytes, expected at most 65536"}));
}

// ---------------------------------------------------------------------------------------------
// Together with the channel table

ConfigText config_text(std::string imta, std::optional<std::string> dispatcher) {
  ConfigText text;
  text.imta_cnf = std::move(imta);
  text.dispatcher_cnf = std::move(dispatcher);
  return text;
}

Words config_errors(const ConfigText& text) {
  auto r = parse_config(text);
  if (r) {
    ADD_FAILURE() << "loaded, expected errors";
    return {};
  }
  return test::formatted(r.error());
}

TEST(ParseConfig, ServiceWhoseChannelIsNotInTheTable) {
  EXPECT_EQ(
      config_errors(config_text("\ntcp_local maytls\ntcp-daemon\n",
                                "[SERVICE=SMTP]\nPORT=25\nPARAMETER=CHANNEL=tcp_nosuch\n")),
      (Words{"dispatcher.cnf:3:19: error: found service 'SMTP' handing connections to channel 'tcp_nosuch', "
             "expected a channel of imta.cnf"}));
}

TEST(ParseConfig, ServiceWithTheDefaultChannelMissingFromTheTable) {
  EXPECT_EQ(
      config_errors(config_text("\ntcp_x\nx-daemon\n", "[SERVICE=SMTP]\nPORT=25\n")),
      (Words{"dispatcher.cnf:1:10: error: found service 'SMTP' handing connections to channel 'tcp_local' "
             "(the default of PARAMETER=CHANNEL=), expected a channel of imta.cnf"}));
}

TEST(ParseConfig, ServiceChannelMatchesIgnoringCase) {
  const auto r = parse_config(config_text("\ntcp_local maytls\ntcp-daemon\n",
                                          "[SERVICE=SMTP]\nPORT=25\nPARAMETER=CHANNEL=TCP_LOCAL\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(incoming_channel(*r, r->dispatcher->services[0]).name.text, "tcp_local");
}

TEST(ParseConfig, ErrorsOfBothFilesComeTogether_AndNothingLoads) {
  EXPECT_EQ(
      config_errors(config_text("\ntcp_x tlsswitchchannel\nx-daemon\n", "[SERVICE=SMTP]\nPORT=0\n")),
      (Words{
          "imta.cnf:2:7: error: found 'tlsswitchchannel' at the end of its line, expected the name of the "
          "channel to switch to after it",
          "dispatcher.cnf:2:6: error: found the PORT value '0', expected a port number from 1 to 65535",
      }));
}

TEST(ParseConfig, WithoutDispatcherCnf_NoServices) {
  const auto r = parse_config(config_text("\ntcp_x\nx-daemon\n", std::nullopt));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->dispatcher);
}

TEST(AssembleConfig, FromFilesParsedUnderOtherNames_ErrorsAndWarningsAsParseConfigGives) {
  // A service on a channel the table lacks, under names other than the defaults.
  ConfigText text = config_text("\ntcp_local maytls\ntcp-daemon\n",
                                "[SERVICE=SMTP]\nPORT=25\nPARAMETER=CHANNEL=tcp_nosuch\n");
  text.imta_cnf_name = "a/imta.cnf";
  text.dispatcher_cnf_name = "a/dispatcher.cnf";
  const auto assembled = assemble_config(parse_imta_cnf(text.imta_cnf, text.imta_cnf_name),
                                         parse_dispatcher_cnf(*text.dispatcher_cnf, text.dispatcher_cnf_name),
                                         text.imta_cnf_name, text.dispatcher_cnf_name);
  ASSERT_FALSE(assembled);
  EXPECT_EQ(test::formatted(assembled.error()),
            (Words{"a/dispatcher.cnf:3:19: error: found service 'SMTP' handing connections to channel "
                   "'tcp_nosuch', expected a channel of a/imta.cnf"}));
  EXPECT_EQ(test::formatted(assembled.error()), config_errors(text));

  // One that loads, with the default folder's warnings.
  const ConfigText good = test::default_config_text();
  const auto from_parts = assemble_config(parse_imta_cnf(good.imta_cnf, good.imta_cnf_name),
                                          parse_dispatcher_cnf(*good.dispatcher_cnf, good.dispatcher_cnf_name),
                                          good.imta_cnf_name, good.dispatcher_cnf_name);
  const auto whole = parse_config(good);
  ASSERT_TRUE(from_parts);
  ASSERT_TRUE(whole);
  EXPECT_TRUE(same_channel_table(from_parts->table, whole->table));
  ASSERT_TRUE(from_parts->dispatcher);
  ASSERT_TRUE(whole->dispatcher);
  EXPECT_EQ(from_parts->dispatcher->services.size(), whole->dispatcher->services.size());
  EXPECT_EQ(test::formatted(from_parts->warnings), test::formatted(whole->warnings));
}

// ---------------------------------------------------------------------------------------------
// Loading a folder

class LoadConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("tlschan-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(LoadConfig, MissingFolder_IsOneErrorNamingIt) {
  const auto r = load_config(dir_ / "nosuch");
  ASSERT_FALSE(r);
  EXPECT_EQ(
      test::formatted(r.error()),
      (Words{(dir_ / "nosuch").string() + ": error: no such folder, expected a folder holding imta.cnf"}));
}

TEST_F(LoadConfig, MissingImtaCnf_IsOneErrorNamingIt) {
  write("dispatcher.cnf", "[SERVICE=SMTP]\nPORT=25\n");
  const auto r = load_config(dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(test::formatted(r.error()),
            (Words{(dir_ / "imta.cnf").string() + ": error: not found, expected a file"}));
}

TEST_F(LoadConfig, DiagnosticsNameTheFilesByTheirPath) {
  write("imta.cnf", "\ntcp_local maytls\ntcp-daemon\n");
  write("dispatcher.cnf", "[SERVICE=SMTP]\nPORT=99999\n");
  const auto r = load_config(dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(test::formatted(r.error()),
            (Words{(dir_ / "dispatcher.cnf").string() +
                   ":2:6: error: found the PORT value '99999', expected a port number from 1 to 65535"}));
}

TEST_F(LoadConfig, ImtaCnfAloneLoads) {
  write("imta.cnf", "\ntcp_local maytls\ntcp-daemon\n");
  const auto r = load_config(dir_);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->dispatcher);
  EXPECT_EQ(r->table.file(), (dir_ / "imta.cnf").string());
}

TEST_F(LoadConfig, TheDefaultFolderLoads) {
  const auto r = load_config(TLSCHAN_TEST_CONFIGS "/default");
  ASSERT_TRUE(r) << test::joined_lines(test::formatted(r.error()));
  ASSERT_TRUE(r->dispatcher);
  EXPECT_EQ(r->dispatcher->services.size(), 4u);
}

TEST_F(LoadConfig, TheBadTestFolderFails) {
  const auto r = load_config(TLSCHAN_TEST_DATA "/configs/unknown_switch_target");
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().empty());
}

}  // namespace
}  // namespace tlschan
