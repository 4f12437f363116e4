#include <capspawn/result.h>

#include <cstring>

namespace capspawn {

Error Error::FromErrno(int err, const std::string& what) {
  return Error(capspawn_status_from_errno(err), what + ": " + std::strerror(err));
}

}  // namespace capspawn
