// SPDX-License-Identifier: Apache-2.0
// capspawn/startup.h for the spawned program's side.
#include <capspawn/startup.h>

#include <string>

#include "common.h"

namespace capspawn::python {

void RegisterStartup(py::module_& m) {
  m.def(
      "take_startup_handle",
      [](uint32_t id) -> py::object {
        const int fd = capspawn_take_startup_handle(id);
        if (fd < 0) return py::none();
        return py::int_(fd);
      },
      py::arg("id"));
  m.def(
      "startup_handle_name",
      [](uint32_t id) {
        char buf[64];
        if (capspawn_startup_handle_name(id, buf, sizeof buf) < 0) {
          throw py::value_error("no name for handle id " + std::to_string(id));
        }
        return std::string(buf);
      },
      py::arg("id"));
  m.def(
      "parse_startup_handle_name",
      [](const std::string& name) -> py::object {
        uint32_t id = 0;
        if (capspawn_startup_handle_parse_name(name.data(), name.size(), &id) != 0) {
          return py::none();
        }
        return py::int_(id);
      },
      py::arg("name"));
}

}  // namespace capspawn::python
