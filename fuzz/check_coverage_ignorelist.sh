#!/usr/bin/env bash
# fuzz/check_coverage_ignorelist.sh SOURCE_DIR: fails when fuzz/coverage-ignorelist.txt leaves out of
# SanitizerCoverage a source file that defines code a fuzz target attacks. A `src:` entry there
# removes every edge of its files from what guides libFuzzer, so an entry that grows too wide (or a
# function that moves into a file left out) would leave a target blind to the very code it fuzzes,
# with nothing else failing: the target still runs, only its coverage says less.
set -euo pipefail
root=${1:?usage: check_coverage_ignorelist.sh SOURCE_DIR}
list=$root/fuzz/coverage-ignorelist.txt
# What the targets attack: the parsers, the sessions, the configuration and file readers, the
# meddlers and scripted peers, the diagrams' reader and writers.
attacked=(
  "CommandLineParser::next_view" "ReplyParser::next_view" "DataReader::next" "parse_capabilities"
  "ServerSession::receive" "ClientSession::receive" "parse_imta_cnf" "parse_dispatcher_cnf" "assemble_config"
  "parse_transcript" "parse_scenario" "read_sequence" "diagram_svg" "Meddler::server_line"
  "ScriptedClient::receive"
)
mapfile -t patterns < <(sed -n 's/^src://p' "$list")
[ ${#patterns[@]} -gt 0 ] || { echo "no src: entries in $list"; exit 0; }
status=0
for name in "${attacked[@]}"; do
  mapfile -t files < <(cd "$root" && grep -lE "^[A-Za-z].*[ :*&]${name}\(" engine/src/*.cpp sim/src/*.cpp views/src/*.cpp)
  if [ ${#files[@]} -eq 0 ]; then
    echo "check_coverage_ignorelist: no source defines $name (update the list in $0)"
    status=1
    continue
  fi
  for f in "${files[@]}"; do
    for p in "${patterns[@]}"; do
      # shellcheck disable=SC2053  # the entry is a glob, as clang reads it ("*" matches "/" too)
      if [[ "$root/$f" == $p || "/$f" == $p ]]; then
        echo "check_coverage_ignorelist: $list leaves $f out of coverage (src:$p), and it defines $name"
        status=1
      fi
    done
  done
done
[ $status = 0 ] && echo "check_coverage_ignorelist: ${#attacked[@]} attacked functions, none in a file left out of coverage"
exit $status
