# Installation and packages (docs/building.md): the engine's headers and library (static, or shared
# with -DBUILD_SHARED_LIBS=ON, with an SONAME), the tlschan program (cli/CMakeLists.txt), a CMake
# package for find_package(tlschan), a pkg-config file tlschan.pc, and `cpack -G DEB`. The version is
# the one of project() in CMakeLists.txt, nowhere else.
include(CMakePackageConfigHelpers)

install(DIRECTORY engine/include/tlschan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/engine/generated/tlschan/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tlschan)
install(TARGETS tlschan_engine EXPORT tlschanTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tlschanTargets NAMESPACE tlschan:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tlschan)
configure_package_config_file(cmake/tlschanConfig.cmake.in ${PROJECT_BINARY_DIR}/tlschanConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tlschan)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tlschanConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tlschanConfig.cmake ${PROJECT_BINARY_DIR}/tlschanConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tlschan)

# tlschan.pc: relocatable (its prefix is found from where the file is), so that the same file
# serves `cmake --install --prefix P` and the .deb.
file(RELATIVE_PATH TLSCHAN_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" TLSCHAN_PC_TO_PREFIX "${TLSCHAN_PC_TO_PREFIX}")
configure_file(cmake/tlschan.pc.in ${PROJECT_BINARY_DIR}/tlschan.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tlschan.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# A shared engine: the installed program finds it next to its own prefix.
if(BUILD_SHARED_LIBS AND NOT CMAKE_INSTALL_RPATH)
  if(TARGET tlschan)
    file(RELATIVE_PATH _tlschan_bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
    set_target_properties(tlschan PROPERTIES INSTALL_RPATH "$ORIGIN/${_tlschan_bin_to_lib}")
  endif()
endif()

# `cpack -G DEB` (from the build folder): one package with all of the above. Its dependencies:
# those of the program and any shared library, found by dpkg-shlibdeps (dpkg-dev), and libssl-dev,
# which the headers and find_package(tlschan) need.
set(CPACK_PACKAGE_NAME tlschan)
set(CPACK_PACKAGE_VENDOR "tlschan")
if(NOT CPACK_PACKAGE_CONTACT)  # the Maintainer field; a packager sets their own
  set(CPACK_PACKAGE_CONTACT "tlschan maintainers <tlschan@localhost>")
endif()
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libssl-dev (>= 3.0)")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${PROJECT_DESCRIPTION}
 The tlschan program (simulation, outcome matrix, fuzzing helpers, a real SMTP server and client
 for the notls/maytls/musttls channel options) and the sans-IO engine library with its headers,
 CMake package (find_package(tlschan)) and pkg-config file (tlschan.pc).")
set(CPACK_GENERATOR DEB)
include(CPack)
