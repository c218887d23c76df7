# SPDX-License-Identifier: MIT
# CorioInstall: what `cmake --install` puts under the prefix.  Installed
# files find each other by relative paths (the .pc files through
# ${pcfiledir}, the CMake package through its own location, bin/coriogen
# through $0), so the tree works wherever it is installed or moved to,
# whatever CMAKE_INSTALL_PREFIX was at configure time.
#
#   include/               corio.h, corio/*.h, the macro DSL
#   lib/                   libcorio, libcorio_dns (runtime/CMakeLists.txt)
#   lib/pkgconfig/         corio.pc (variable `coriogen`), corio-dns.pc
#   lib/cmake/corio/       corioConfig.cmake (component dns), the exported
#                          targets, CorioCodegen.cmake
#   bin/coriogen           the code generator
#   share/corio/codegen/   its Python package, coriogen/

include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

# Installed directories, relative to the prefix where they can be.
set(CORIO_CODEGEN_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/corio/codegen")
set(CORIO_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/corio")
set(CORIO_PC_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# Set VAR to the path of installed directory TO seen from installed
# directory FROM (both relative to the prefix, "" for the prefix itself,
# or absolute).
function(corio_install_relpath var from to)
  foreach(dir from to)
    if(${dir} STREQUAL "")
      set(${dir} "${CMAKE_INSTALL_PREFIX}")
    elseif(NOT IS_ABSOLUTE "${${dir}}")
      set(${dir} "${CMAKE_INSTALL_PREFIX}/${${dir}}")
    endif()
  endforeach()
  file(RELATIVE_PATH rel "${from}" "${to}")
  string(REGEX REPLACE "/$" "" rel "${rel}")    # "../../" for an ancestor
  if(rel STREQUAL "")
    set(rel .)
  endif()
  set(${var} "${rel}" PARENT_SCOPE)
endfunction()

# Headers.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ ${PROJECT_SOURCE_DIR}/macros/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# The code generator: its Python package, a module telling it where the
# headers went (it parses with corio/await.h), and the bin/coriogen
# launcher that picks an interpreter with libclang.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/codegen/coriogen
        DESTINATION ${CORIO_CODEGEN_INSTALL_DIR}
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
corio_install_relpath(CORIO_CODEGEN_TO_INCLUDE
  "${CORIO_CODEGEN_INSTALL_DIR}/coriogen" "${CMAKE_INSTALL_INCLUDEDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/coriogen_install_paths.py.in
  ${PROJECT_BINARY_DIR}/install/install_paths.py @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/install/install_paths.py
        DESTINATION ${CORIO_CODEGEN_INSTALL_DIR}/coriogen)
corio_install_relpath(CORIO_BIN_TO_CODEGEN
  "${CMAKE_INSTALL_BINDIR}" "${CORIO_CODEGEN_INSTALL_DIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/coriogen.in
  ${PROJECT_BINARY_DIR}/install/coriogen @ONLY)
install(PROGRAMS ${PROJECT_BINARY_DIR}/install/coriogen
        DESTINATION ${CMAKE_INSTALL_BINDIR})

# CMake package: find_package(corio [COMPONENTS dns]).  The dns targets
# are an export set of their own, loaded only when the component is asked
# for, so that plain find_package(corio) never looks for c-ares.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/corioConfig.cmake.in
  ${PROJECT_BINARY_DIR}/corioConfig.cmake
  INSTALL_DESTINATION ${CORIO_CMAKE_INSTALL_DIR}
  PATH_VARS CORIO_CODEGEN_INSTALL_DIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/corioConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/corioConfig.cmake
              ${PROJECT_BINARY_DIR}/corioConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/CorioCodegen.cmake
        DESTINATION ${CORIO_CMAKE_INSTALL_DIR})
install(EXPORT corioTargets NAMESPACE corio::
        DESTINATION ${CORIO_CMAKE_INSTALL_DIR})
if(CORIO_HAVE_DNS)
  install(EXPORT corioDnsTargets NAMESPACE corio::
          DESTINATION ${CORIO_CMAKE_INSTALL_DIR})
endif()

# pkg-config: prefix=${pcfiledir}/.. so that the files describe the tree
# they are in.
corio_install_relpath(CORIO_PC_TO_PREFIX "${CORIO_PC_INSTALL_DIR}" "")
foreach(dir LIBDIR INCLUDEDIR BINDIR)
  corio_install_relpath(CORIO_PC_${dir} "" "${CMAKE_INSTALL_${dir}}")
endforeach()
set(pc_files corio)
if(CORIO_HAVE_DNS)
  list(APPEND pc_files corio-dns)
endif()
foreach(pc IN LISTS pc_files)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in
    ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc
          DESTINATION ${CORIO_PC_INSTALL_DIR})
endforeach()
