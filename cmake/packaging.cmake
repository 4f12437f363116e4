# SPDX-License-Identifier: Apache-2.0
# Debian packages made by CPack from the install components (cmake/install.cmake),
# from the same build the tests ran on: `cpack -G DEB` in the build directory
# (or `cmake --build BUILD --target package`). Why CPack and not debian/:
# docs/packaging.md.
#   libcapspawn0        Runtime      the shared library
#   libcapspawn-dev     Development  headers, libcapspawn.so and .a, pkg-config, CMake, man 3
#   capspawn            Tools        the CLI, its completions, man 1 and 7
#   capspawn-launcherd  Launcherd    the daemon, its systemd units, man 8
set(CAPSPAWN_PACKAGE_MAINTAINER "capspawn maintainers <capspawn-maintainers@example.org>"
    CACHE STRING "The Maintainer of the Debian packages")
set(CAPSPAWN_PACKAGE_RELEASE 1 CACHE STRING "The Debian revision of the packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME capspawn)
set(CPACK_PACKAGE_VENDOR "The capspawn authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${CAPSPAWN_PACKAGE_MAINTAINER}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# Each package's first description line is its own summary: CPack would put
# the project's description before it unless the summary is its default.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "capspawn built using CMake")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Runtime Development Tools Launcherd)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CAPSPAWN_PACKAGE_RELEASE})
set(CAPSPAWN_DEBIAN_VERSION "${PROJECT_VERSION}-${CAPSPAWN_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CAPSPAWN_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from dpkg-shlibdeps
# capspawn links libcapspawn.so.0 of this build; its dependency on
# libcapspawn0 comes from CPACK_COMPONENT_TOOLS_DEPENDS instead.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libcapspawn0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# libc's ldconfig trigger, as Debian wants for a shared library (CPack also
# writes postinst/postrm calling ldconfig: lintian's maintscript-calls-ldconfig
# warning; empty scripts to suppress them would only trade it for another).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/libcapspawn0/triggers)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "capability-based process creation for Linux (library)
capspawn brings Fuchsia's capability-based process creation to Linux: a new
process gets exactly what its creator hands it (arguments, environment, file
descriptors with typed ids, a private filesystem, a cgroup job) and nothing
ambient. This package holds the shared library.")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libcapspawn-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS Runtime)
# The static library and capspawn.pc's Requires.private need them.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "libseccomp-dev, libcapnp-dev")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
    "capability-based process creation for Linux (development files)
capspawn brings Fuchsia's capability-based process creation to Linux. This
package holds the C and C++ headers, the static library, the pkg-config
files (capspawn, capspawn-static), the CMake package (capspawn::capspawn,
capspawn::capspawn_static) and the manual pages of the C API.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME capspawn)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_TOOLS_DEPENDS Runtime)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
    "capability-based process creation for Linux (command-line tool)
capspawn brings Fuchsia's capability-based process creation to Linux. The
capspawn command runs programs that get exactly the file descriptors,
environment, directories and job it names, creates processes without
starting them, manages cgroup v2 jobs and hands listening sockets the way
systemd's socket units do.")

set(CPACK_DEBIAN_LAUNCHERD_PACKAGE_NAME capspawn-launcherd)
set(CPACK_DEBIAN_LAUNCHERD_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_LAUNCHERD_DESCRIPTION
    "capability-based process creation for Linux (launcher service)
capspawn brings Fuchsia's capability-based process creation to Linux. The
capspawn-launcherd daemon serves the Launcher and Resolver protocols on a
socket activated by systemd: it creates processes for its clients, as its
clients, so that processes which may not create processes themselves can
ask it.")
set(launcherd_scripts ${PROJECT_SOURCE_DIR}/packaging/debian/capspawn-launcherd)
set(CPACK_DEBIAN_LAUNCHERD_PACKAGE_CONTROL_EXTRA
    ${launcherd_scripts}/postinst ${launcherd_scripts}/prerm ${launcherd_scripts}/postrm)

# Each package's /usr/share/doc/PACKAGE: copyright, the Debian changelog and
# the upstream one, as Debian policy wants them.
string(TIMESTAMP CAPSPAWN_PACKAGE_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(doc_out ${PROJECT_BINARY_DIR}/packaging)
configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/copyright.in ${doc_out}/copyright @ONLY)
find_program(GZIP gzip REQUIRED)
foreach(component Runtime Development Tools Launcherd)
  string(TOUPPER ${component} upper)
  set(PACKAGE ${CPACK_DEBIAN_${upper}_PACKAGE_NAME})
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/changelog.Debian.in
    ${doc_out}/${PACKAGE}/changelog.Debian @ONLY)
  execute_process(COMMAND ${GZIP} -9 -n -f ${doc_out}/${PACKAGE}/changelog.Debian)
  execute_process(COMMAND ${GZIP} -9 -n -c ${PROJECT_SOURCE_DIR}/CHANGELOG.md
    OUTPUT_FILE ${doc_out}/${PACKAGE}/changelog.gz)
  install(FILES ${doc_out}/copyright ${doc_out}/${PACKAGE}/changelog.Debian.gz
    ${doc_out}/${PACKAGE}/changelog.gz
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${PACKAGE} COMPONENT ${component})
endforeach()

include(CPack)
