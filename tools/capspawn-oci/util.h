// SPDX-License-Identifier: Apache-2.0
// Small file and time helpers shared by capspawn-oci's parts.
#ifndef CAPSPAWN_TOOLS_OCI_UTIL_H_
#define CAPSPAWN_TOOLS_OCI_UTIL_H_

#include <string>

#include <capspawn/result.h>

namespace capspawn::oci {

// Reads a file of at most `limit` bytes (OUT_OF_RANGE past it).
Status ReadSmallFile(const std::string& path, std::string* out, size_t limit = 1u << 20);
Status ReadSmallFileAt(int dir, const std::string& name, std::string* out, size_t limit = 1u << 20);
// Writes `name` in `dir` through a temporary file and rename(); `where` names
// the directory in messages.
Status WriteFileAtomically(int dir, const std::string& name, const std::string& text,
                           const std::string& where);
// Writes `path` through a temporary file beside it and rename() (--pid-file).
Status WriteFileAtomically(const std::string& path, const std::string& text);
// mkdir -p.
Status MakeDirs(const std::string& path, unsigned mode);
// Now, as RFC 3339 with nanoseconds in UTC ("2026-12-04T03:40:11.123456789Z").
std::string NowRfc3339();
// An absolute form of `path` (relative to the cwd), lexically normalised.
std::string Absolute(const std::string& path);

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_UTIL_H_
