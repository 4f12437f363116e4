// SPDX-License-Identifier: Apache-2.0
// `capspawn completion bash|zsh`: the completion scripts, written from the
// option tables the parsers use (options_table.cc) and the command list
// (commands.cc). The build runs this to make the installed scripts.
#include <getopt.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "options_table.h"
#include "voice.h"

namespace capspawn::cli {
namespace {

constexpr char kHelp[] = R"(Usage: capspawn completion bash|zsh

Print the completion script for bash or zsh on stdout. The packages install
them (bash: /usr/share/bash-completion/completions/capspawn; zsh:
/usr/share/zsh/vendor-completions/_capspawn); to try one in a shell:
  source <(capspawn completion bash)
Every command and option comes from the tables capspawn parses with.

Options:
  -h, --help    show this help and exit

Exit status: 0; 2 for a wrong command line.
)";

struct Flag {
  std::string spelled;  // "--env", "-e"
  std::string name;     // "env" ("e" for a short one)
  bool takes_value;
};

std::vector<Flag> FlagsOf(const CommandOptions& c) {
  std::vector<Flag> flags;
  for (const option* o = c.long_options; o->name != nullptr; ++o) {
    flags.push_back({std::string("--") + o->name, o->name, o->has_arg != no_argument});
  }
  // Short options: each letter of the getopt string, ':' after it when it takes a value.
  const std::string s = c.short_options;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (ch == '+' || ch == ':' || ch == '-') continue;
    const bool value = i + 1 < s.size() && s[i + 1] == ':';
    std::string name(1, ch);
    // The long option it abbreviates, for the value's kind.
    for (const option* o = c.long_options; o->name != nullptr; ++o) {
      if (o->val == ch) name = o->name;
    }
    flags.push_back({std::string("-") + ch, name, value});
  }
  return flags;
}

std::string Top(const std::string& path) { return path.substr(0, path.find(' ')); }

const char* OperandKind(Operands o) {
  switch (o) {
    case Operands::kNone:
      return "none";
    case Operands::kCommand:
      return "command";
    case Operands::kFile:
      return "file";
    case Operands::kJob:
      return "job";
    case Operands::kPid:
      return "pid";
    case Operands::kWord:
      return "word";
  }
  return "none";
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Single-quoted for the shell.
std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void Bash() {
  std::vector<std::string> commands;
  for (const Command& c : Commands()) commands.push_back(c.name);
  commands.push_back("help");
  std::map<std::string, std::vector<std::string>> subcommands;  // "job" -> create, list...
  for (const CommandOptions& c : AllCommandOptions()) {
    if (c.path.find(' ') != std::string::npos) {
      subcommands[Top(c.path)].push_back(c.path.substr(c.path.find(' ') + 1));
    }
  }
  printf(
      "# bash completion for capspawn: written by 'capspawn completion bash' from the\n"
      "# option tables capspawn parses with. Do not edit; regenerate.\n\n");
  printf(
      "declare -gA _capspawn_flags=() _capspawn_values=() _capspawn_operands=() "
      "_capspawn_choices=() _capspawn_subcommands=()\n");
  printf("_capspawn_commands=%s\n", Quoted(Join(commands)).c_str());
  for (const auto& [top, subs] : subcommands) {
    printf("_capspawn_subcommands[%s]=%s\n", top.c_str(), Quoted(Join(subs)).c_str());
  }
  for (const CommandOptions& c : AllCommandOptions()) {
    std::vector<std::string> spelled;
    for (const Flag& f : FlagsOf(c)) {
      spelled.push_back(f.spelled + (f.takes_value && f.spelled.size() > 2 ? "=" : ""));
      if (f.takes_value) {
        printf("_capspawn_values[%s]=%s\n", Quoted(c.path + " " + f.spelled).c_str(),
               Quoted(ValueKind(c.path, f.name)).c_str());
      }
    }
    printf("_capspawn_flags[%s]=%s\n", Quoted(c.path).c_str(), Quoted(Join(spelled)).c_str());
    printf("_capspawn_operands[%s]=%s\n", Quoted(c.path).c_str(), OperandKind(c.operands));
    if (!c.choices.empty()) {
      printf("_capspawn_choices[%s]=%s\n", Quoted(c.path).c_str(), Quoted(Join(c.choices)).c_str());
    }
  }
  fputs(R"BASH(
# Completes a value of the given kind: file, dir, text, words:a b c.
_capspawn_value() {
  local kind=$1 cur=$2
  case $kind in
    words:*)
      # A comma list (--clone=stdio,env...): complete the last word.
      local prefix=${cur%,*} last=${cur##*,} w
      [[ $cur == *,* ]] && prefix="$prefix," || prefix=""
      for w in ${kind#words:}; do [[ $w == "$last"* ]] && COMPREPLY+=("$prefix$w"); done
      compopt -o nospace 2>/dev/null ;;
    dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
    text) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}

_capspawn() {
  # COMP_WORDBREAKS splits "--opt=value" into "--opt" "=" "value": join them
  # back; orig[j] is where joined word j starts in COMP_WORDS.
  local -a words=() orig=()
  local i w cword=0
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    if ((${#words[@]})) && [[ ${words[-1]} == --* ]] && [[ $w == "=" || ${words[-1]} == *= ]]; then
      words[-1]+=$w
    else
      words+=("$w")
      orig+=("$i")
    fi
    ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
  done
  local cur=${words[cword]} prev=${words[cword-1]} path="" operand_start=0
  COMPREPLY=()
  # Walk the words before the cursor: capspawn's options, the command (and a
  # job subcommand), its options and their values, then its operands.
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    if ((operand_start)); then continue; fi
    if [[ -z $path ]]; then
      [[ $w == -* ]] || path=$w
      continue
    fi
    if [[ -n ${_capspawn_subcommands[$path]} && $path != *" "* ]]; then
      [[ $w == -* ]] || path="$path $w"
      continue
    fi
    if [[ $w == -- ]]; then operand_start=$((i + 1)); continue; fi
    if [[ $w == -* ]]; then
      [[ $w != *=* && -n ${_capspawn_values["$path $w"]} ]] && ((i++))
      continue
    fi
    # The first operand. `run` stops reading options there (its program's own follow).
    [[ $path == run ]] && operand_start=$i
  done
  if [[ -z $path ]]; then
    COMPREPLY=($(compgen -W "$_capspawn_commands --help --version -h -V" -- "$cur"))
    return 0
  fi
  if [[ $path == help ]]; then
    COMPREPLY=($(compgen -W "$_capspawn_commands" -- "$cur"))
    return 0
  fi
  if [[ -n ${_capspawn_subcommands[$path]} ]]; then
    COMPREPLY=($(compgen -W "${_capspawn_subcommands[$path]} --help" -- "$cur"))
    return 0
  fi
  if ((operand_start)) && [[ ${_capspawn_operands[$path]} == command ]]; then
    # PROGRAM and its arguments: completed as a command line of its own.
    if ((operand_start == cword)); then
      COMPREPLY=($(compgen -c -- "$cur"))
    elif declare -F _command_offset >/dev/null; then
      _command_offset "${orig[operand_start]}"
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
  fi
  if ((!operand_start)); then
    if [[ $cur == --*=* ]]; then
      local kind=${_capspawn_values["$path ${cur%%=*}"]}
      [[ -n $kind ]] && _capspawn_value "$kind" "${cur#*=}"
      return 0
    fi
    if [[ $prev == -* && $prev != *=* && -n ${_capspawn_values["$path $prev"]} ]]; then
      _capspawn_value "${_capspawn_values["$path $prev"]}" "$cur"
      return 0
    fi
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "${_capspawn_flags[$path]}" -- "$cur"))
      [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
      return 0
    fi
  fi
  case ${_capspawn_operands[$path]} in
    command) COMPREPLY=($(compgen -c -- "$cur")) ;;
    file) COMPREPLY=($(compgen -f -- "$cur")) ;;
    job) COMPREPLY=($(compgen -d -- "$cur")) ;;
    pid) COMPREPLY=($(compgen -W "$(ps -eo stat=,pid= 2>/dev/null | awk '$1 ~ /^T/ {print $2}')" -- "$cur")) ;;
    word) COMPREPLY=($(compgen -W "${_capspawn_choices[$path]}" -- "$cur")) ;;
  esac
  [[ -n ${_capspawn_choices[$path]} && ${_capspawn_operands[$path]} != word ]] &&
    COMPREPLY+=($(compgen -W "${_capspawn_choices[$path]}" -- "$cur"))
  return 0
}
complete -F _capspawn capspawn
)BASH",
        stdout);
}

// zsh: _arguments specs, one function per command path.
std::string ZshAction(const std::string& kind) {
  if (kind.rfind("words:", 0) == 0) return "_sequence compadd - " + kind.substr(6);
  if (kind == "dir") return "_files -/";
  if (kind == "text") return " ";
  return "_files";
}

std::string ZshFunction(const std::string& path) {
  std::string name = "_capspawn_" + path;
  for (char& c : name) {
    if (c == ' ' || c == '-') c = '_';
  }
  return name;
}

void Zsh() {
  printf(
      "#compdef capspawn\n"
      "# zsh completion for capspawn: written by 'capspawn completion zsh' from the\n"
      "# option tables capspawn parses with. Do not edit; regenerate.\n\n");
  std::map<std::string, std::vector<std::string>> subcommands;
  for (const CommandOptions& c : AllCommandOptions()) {
    if (c.path.find(' ') != std::string::npos) {
      subcommands[Top(c.path)].push_back(c.path.substr(c.path.find(' ') + 1));
    }
  }
  for (const CommandOptions& c : AllCommandOptions()) {
    printf("%s() {\n  _arguments -s -S \\\n", ZshFunction(c.path).c_str());
    for (const Flag& f : FlagsOf(c)) {
      std::string spec = "*" + f.spelled;
      if (f.takes_value) {
        spec += f.spelled.size() > 2 ? "=" : "+";
        spec += ":" + f.name + ":" + ZshAction(ValueKind(c.path, f.name));
      }
      printf("    %s \\\n", Quoted(spec).c_str());
    }
    switch (c.operands) {
      case Operands::kCommand:
        printf("    '(-)1:program:_command_names -e' '*::arguments:_normal'\n");
        break;
      case Operands::kFile:
        printf("    '*:file:_files'\n");
        break;
      case Operands::kJob:
        printf("    '1:job:_files -/'%s\n",
               c.choices.empty() ? "" : (" '2:value:(" + Join(c.choices) + ")'").c_str());
        break;
      case Operands::kPid:
        printf("    '1:pid:_pids'\n");
        break;
      case Operands::kWord:
        printf("    %s\n", c.choices.empty() ? "'1:name: '"
                                             : Quoted("1:value:(" + Join(c.choices) + ")").c_str());
        break;
      case Operands::kNone:
        printf("\n");
        break;
    }
    printf("}\n\n");
  }
  for (const auto& [top, subs] : subcommands) {
    printf("%s() {\n  local -a subcommands=(%s)\n", ZshFunction(top).c_str(), Join(subs).c_str());
    printf(
        "  if (( CURRENT == 2 )); then\n    _describe -t commands '%s command' subcommands\n"
        "  else\n    shift words; (( CURRENT-- ))\n"
        "    (( $+functions[%s_$words[1]] )) && %s_$words[1]\n  fi\n}\n\n",
        top.c_str(), ZshFunction(top).c_str(), ZshFunction(top).c_str());
  }
  printf("_capspawn_help() {\n  _arguments '1:command:(%s)'\n}\n\n",
         [] {
           std::vector<std::string> names;
           for (const Command& c : Commands()) names.push_back(c.name);
           return Join(names);
         }()
             .c_str());
  printf("_capspawn() {\n  local -a commands=(\n");
  for (const Command& c : Commands()) {
    printf("    %s\n", Quoted(std::string(c.name) + ":" + c.summary).c_str());
  }
  printf("    'help:show the help of capspawn or of a command'\n  )\n");
  printf(
      "  if (( CURRENT == 2 )); then\n"
      "    if [[ $PREFIX == -* ]]; then\n      compadd -- --help --version -h -V\n"
      "    else\n      _describe -t commands 'capspawn command' commands\n    fi\n"
      "  else\n    shift words; (( CURRENT-- ))\n"
      "    (( $+functions[_capspawn_$words[1]] )) && _capspawn_$words[1]\n  fi\n}\n\n");
  printf("_capspawn \"$@\"\n");
}

}  // namespace
}  // namespace capspawn::cli

int CmdCompletion(int argc, char** argv) {
  using namespace capspawn::cli;
  const CommandOptions* table = FindCommandOptions("completion");
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, table->short_options, table->long_options, nullptr)) != -1) {
    if (c == 'h') {
      fputs(kHelp, stdout);
      return 0;
    }
    return Usage("completion", GetoptError(table->long_options, argv));
  }
  if (optind + 1 != argc) return Usage("completion", "expects bash or zsh");
  const std::string shell = argv[optind];
  if (shell == "bash") {
    Bash();
  } else if (shell == "zsh") {
    Zsh();
  } else {
    return Usage("completion", "unknown shell '" + shell + "' (expected bash or zsh)");
  }
  return fflush(stdout) == 0 && !ferror(stdout) ? 0 : kExitFailure;
}
