#include "show_command.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "exit_status.hpp"
#include "output_file.hpp"
#include "tlschan/views/diagram.hpp"

namespace tlschan::cli {

namespace {

struct ShowOptions {
  std::string file;
  std::string html;
  std::string svg;
  bool text = false;
};

int show_command(const ShowOptions& o) {
  std::error_code ec;
  if (std::filesystem::is_directory(o.file, ec)) {
    std::cerr << o.file << ":1:1: error: a folder, expected a transcript file\n";
    return exit_no_input;
  }
  std::ifstream in(o.file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    std::cerr << o.file << ":1:1: error: cannot read the file\n";
    return exit_no_input;
  }
  const auto sequence = views::read_sequence(text.str(), o.file);
  if (!sequence) {
    std::cerr << sequence.error() << "\n";
    return exit_data;
  }
  const bool to_text = o.text || (o.html.empty() && o.svg.empty());
  // The text diagram owns stdout when it is asked for; the names of written files then go to stderr.
  std::ostream& said = to_text ? std::cerr : std::cout;
  if (!o.html.empty()) {
    if (!write_output_file("show", o.html, views::diagram_html(*sequence))) return exit_cant_create;
    said << "html: " << o.html << "\n";
  }
  if (!o.svg.empty()) {
    if (!write_output_file("show", o.svg, views::diagram_svg_file(*sequence))) return exit_cant_create;
    said << "svg: " << o.svg << "\n";
  }
  if (to_text) std::cout << views::diagram_text(*sequence);
  return 0;
}

}  // namespace

void add_show_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = app.add_subcommand(
      "show",
      "Draw a transcript (of run, explore, replay, probe or client-check evidence, or send --json) as a sequence "
      "diagram: client, meddler and server lifelines, one arrow per segment, TLS shaded, engine events as notes, "
      "the meddler's acts and the verdict in colour. Exit status: 0 drawn, 64 bad command line, 65 malformed file "
      "(FILE:LINE:COLUMN), 66 unreadable file, 73 an output cannot be written");
  cmd->add_option("file", o->file, "The transcript, evidence file or send --json output")->required();
  cmd->add_option("--html", o->html, "Write one self-contained HTML page (inline SVG and CSS, no script) to this file");
  cmd->add_option("--svg", o->svg, "Write the diagram as an SVG file");
  cmd->add_flag("--text", o->text, "Print the diagram as text (the default when neither --html nor --svg is given)");
  cmd->callback([o, &exit_code] { exit_code = show_command(*o); });
}

}  // namespace tlschan::cli
