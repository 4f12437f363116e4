// SPDX-License-Identifier: Apache-2.0
// CAPSPAWN_LAUNCHER, read in one place: the launcher socket the C API and
// the in-process context go through. In base, below both the spawn pipeline
// and the launcher client, so that neither depends on the other for it.
#ifndef CAPSPAWN_SRC_BASE_LAUNCHER_ENV_H_
#define CAPSPAWN_SRC_BASE_LAUNCHER_ENV_H_

namespace capspawn::launcher_internal {

// $CAPSPAWN_LAUNCHER, or null when unset or empty.
const char* ConfiguredLauncher();

}  // namespace capspawn::launcher_internal

#endif  // CAPSPAWN_SRC_BASE_LAUNCHER_ENV_H_
