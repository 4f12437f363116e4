# SPDX-License-Identifier: Apache-2.0
# What `cmake --install` puts where, split into the components the Debian
# packages are made of (cmake/packaging.cmake):
#   Runtime      libcapspawn.so.0               -> libcapspawn0
#   Development  headers, .so, .a, .pc, CMake   -> libcapspawn-dev
#   Tools        capspawn, completions, man 1/7 -> capspawn
#   Launcherd    capspawn-launcherd, units, man 8 -> capspawn-launcherd
include(CMakePackageConfigHelpers)
install(DIRECTORY include/capspawn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)
install(FILES ${CAPSPAWN_GENERATED_INCLUDE}/capspawn/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/capspawn COMPONENT Development)
install(TARGETS capspawn capspawn_static EXPORT capspawnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# CPack strips programs and shared libraries itself (CPACK_STRIP_FILES), not
# static ones: their debug sections would make libcapspawn-dev ten times larger.
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug --enable-deterministic-archives
      \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/libcapspawn.a\")
  endif()" COMPONENT Development)
install(EXPORT capspawnTargets NAMESPACE capspawn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capspawn
  COMPONENT Development)
configure_package_config_file(cmake/capspawnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/capspawnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capspawn)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/capspawnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capspawnConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/capspawnConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capspawn COMPONENT Development)
# Relocatable: the prefix is found from where the .pc file is installed.
file(RELATIVE_PATH CAPSPAWN_PC_TO_PREFIX "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig"
     "${CMAKE_INSTALL_PREFIX}")
foreach(pc capspawn capspawn-static)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
    COMPONENT Development)
endforeach()
