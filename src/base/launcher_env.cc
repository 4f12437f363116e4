// SPDX-License-Identifier: Apache-2.0
#include "base/launcher_env.h"

#include <cstdlib>

namespace capspawn::launcher_internal {

const char* ConfiguredLauncher() {
  const char* s = std::getenv("CAPSPAWN_LAUNCHER");
  return s != nullptr && *s != '\0' ? s : nullptr;
}

}  // namespace capspawn::launcher_internal
