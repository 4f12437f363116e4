// SPDX-License-Identifier: Apache-2.0
// The child's explicit environment: --env, --env-file, --unset-env and
// --clear-env applied in command-line order.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "options.h"

namespace capspawn::cli {
namespace {

void SetVar(std::vector<std::string>* env, const std::string& assignment) {
  std::string prefix = assignment.substr(0, assignment.find('=') + 1);
  for (std::string& entry : *env) {
    if (entry.rfind(prefix, 0) == 0) {
      entry = assignment;
      return;
    }
  }
  env->push_back(assignment);
}

void UnsetVar(std::vector<std::string>* env, const std::string& name) {
  std::string prefix = name + "=";
  std::erase_if(*env, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
}

// Each NAME=VALUE line, verbatim; blank lines and '#' comments are skipped.
capspawn_status_t ReadEnvFile(const std::string& path, std::vector<std::string>* env,
                              std::string* error) {
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) {
    int err = errno;
    *error = "--env-file " + path + ": " + strerror(err);
    return capspawn_status_from_errno(err);
  }
  capspawn_status_t status = CAPSPAWN_OK;
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t len;
  for (int number = 1; (len = getline(&line, &capacity, f)) >= 0; ++number) {
    std::string text(line, len);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.find_first_not_of(" \t\r") == std::string::npos || text[0] == '#') continue;
    size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      status = CAPSPAWN_ERR_INVALID_ARGS;
      *error = "--env-file " + path + ":" + std::to_string(number) + ": expected NAME=VALUE";
      break;
    }
    SetVar(env, text);
  }
  if (status == CAPSPAWN_OK && ferror(f)) {
    int err = errno;
    *error = "--env-file " + path + ": read: " + strerror(err);
    status = capspawn_status_from_errno(err);
  }
  free(line);
  fclose(f);
  return status;
}

}  // namespace

capspawn_status_t ApplyEnvOptions(const std::vector<EnvOption>& options,
                                  std::vector<std::string>* env, std::string* error) {
  for (const EnvOption& op : options) {
    switch (op.kind) {
      case EnvOption::Kind::kSet:
        SetVar(env, op.arg);
        break;
      case EnvOption::Kind::kUnset:
        UnsetVar(env, op.arg);
        break;
      case EnvOption::Kind::kClear:
        env->clear();
        break;
      case EnvOption::Kind::kFile:
        if (capspawn_status_t s = ReadEnvFile(op.arg, env, error); s != CAPSPAWN_OK) return s;
        break;
    }
  }
  return CAPSPAWN_OK;
}

}  // namespace capspawn::cli
