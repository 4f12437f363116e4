// The caller's own capability sets, read (never changed): what a container
// created by the library inherits.
#ifndef CAPSPAWN_TOOLS_OCI_CAPS_H_
#define CAPSPAWN_TOOLS_OCI_CAPS_H_

#include <string>
#include <vector>

namespace capspawn::oci {

std::vector<int> CallerBoundingSet();  // capability numbers, ascending
bool CallerHasInheritable();

}  // namespace capspawn::oci

#endif  // CAPSPAWN_TOOLS_OCI_CAPS_H_
