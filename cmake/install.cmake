include(CMakePackageConfigHelpers)
install(DIRECTORY include/capspawn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS capspawn capspawn_static EXPORT capspawnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT capspawnTargets NAMESPACE capspawn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capspawn)
configure_package_config_file(cmake/capspawnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/capspawnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capspawn)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/capspawnConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capspawnConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/capspawnConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capspawn)
# Relocatable: the prefix is found from where the .pc file is installed.
file(RELATIVE_PATH CAPSPAWN_PC_TO_PREFIX "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig"
     "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/capspawn.pc.in ${CMAKE_CURRENT_BINARY_DIR}/capspawn.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capspawn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
