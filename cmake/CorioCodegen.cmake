# SPDX-License-Identifier: MIT
# CorioCodegen: build C sources written with async/await (include/corio/await.h)
# by running the code generator codegen/coriogen at build time.  Inside
# corio's tree, include(CorioCodegen); an installed corio provides it
# through find_package(corio), with the generator it installed.
#
#   find_package(corio REQUIRED)         # or include(CorioCodegen)
#   add_executable(app main.c)
#   target_link_libraries(app PRIVATE corio::corio)
#   corio_add_async_sources(app server.c client.c)
#
# corio_add_async_sources(TARGET FILES...)
#   Generates every FILE into ${CMAKE_CURRENT_BINARY_DIR}/coriogen/NAME.gen.c
#   and adds the result to TARGET.  The parse uses TARGET's include
#   directories and compile definitions (including those from linked targets
#   such as corio::corio), so it sees the same headers as the compiler.
#
# corio_generate(OUT_VAR FILE [TARGET tgt] [INCLUDE_DIRS dirs...]
#                [DEFINES defs...] [HEADER])
#   The building block: sets OUT_VAR to the generated .c (and, with HEADER,
#   also writes NAME.gen.h with the start prototypes next to it).
#
# Regeneration happens when the input, any header it includes (a depfile
# lists them) or any of the generator's coriogen/*.py changes.  The
# generated file is compiled with the input's directory on the include
# path, so quoted includes keep working.  Inputs must have distinct file
# names.
#
# corio_find_codegen_python()
#   Sets the cache variable CORIO_CODEGEN_PYTHON to an interpreter that can
#   import clang.cindex (Debian: python3-clang-14), trying /usr/bin/python3,
#   then python3 on PATH; stops with a clear message when none can.  Set
#   CORIO_CODEGEN_PYTHON yourself to choose another one.
#
# CORIO_CODEGEN_DIR, read once when this file is included, is the directory
# holding the coriogen Python package: corio's codegen/ when this file is
# used from the source tree, the installed copy when it comes with
# find_package(corio) (corioConfig.cmake sets it).

include_guard(GLOBAL)

if(NOT CORIO_CODEGEN_DIR)
  set(CORIO_CODEGEN_DIR "${CMAKE_CURRENT_LIST_DIR}/../codegen")
endif()
get_filename_component(_corio_codegen_dir "${CORIO_CODEGEN_DIR}" ABSOLUTE)
# A global property: the functions below may be called from any directory
# scope, not only those that see the variable.
set_property(GLOBAL PROPERTY CORIO_CODEGEN_DIR "${_corio_codegen_dir}")
unset(_corio_codegen_dir)

function(_corio_python_has_libclang python result_var)
  execute_process(
    COMMAND "${python}" -c
      "import clang.cindex as c; c.Index.create()"
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    set(${result_var} TRUE PARENT_SCOPE)
  else()
    set(${result_var} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(corio_find_codegen_python)
  if(CORIO_CODEGEN_PYTHON)
    _corio_python_has_libclang("${CORIO_CODEGEN_PYTHON}" ok)
    if(NOT ok)
      message(FATAL_ERROR
        "corio: CORIO_CODEGEN_PYTHON=${CORIO_CODEGEN_PYTHON} cannot "
        "import clang.cindex (libclang's Python bindings).")
    endif()
    return()
  endif()
  # The system interpreter first: Debian installs python3-clang-14 into
  # its dist-packages, which pyenv and venv interpreters do not see.
  set(candidates /usr/bin/python3)
  find_program(_corio_python3_on_path NAMES python3)
  if(_corio_python3_on_path)
    list(APPEND candidates "${_corio_python3_on_path}")
  endif()
  foreach(python IN LISTS candidates)
    if(EXISTS "${python}")
      _corio_python_has_libclang("${python}" ok)
      if(ok)
        set(CORIO_CODEGEN_PYTHON "${python}" CACHE FILEPATH
            "Python interpreter that runs coriogen (must import clang.cindex)")
        message(STATUS "corio: coriogen runs with ${python}")
        return()
      endif()
    endif()
  endforeach()
  message(FATAL_ERROR
    "corio: no Python interpreter can import clang.cindex, which the code "
    "generator needs (tried: ${candidates}).  On Debian/Ubuntu install it "
    "with `apt install python3-clang-14`, or set CORIO_CODEGEN_PYTHON to an "
    "interpreter that has libclang's Python bindings.")
endfunction()

function(corio_generate out_var input)
  cmake_parse_arguments(G "HEADER" "TARGET" "INCLUDE_DIRS;DEFINES" ${ARGN})
  get_property(codegen_dir GLOBAL PROPERTY CORIO_CODEGEN_DIR)
  if(NOT EXISTS "${codegen_dir}/coriogen/__main__.py")
    message(FATAL_ERROR
      "corio: the code generator is missing: no coriogen package in "
      "${codegen_dir} (cmake --install puts it in share/corio/codegen)")
  endif()
  corio_find_codegen_python()
  get_filename_component(source "${input}" ABSOLUTE)
  get_filename_component(stem "${input}" NAME_WE)
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/coriogen")
  set(output "${dir}/${stem}.gen.c")
  set(depfile "${dir}/${stem}.gen.d")
  file(MAKE_DIRECTORY "${dir}")
  file(GLOB tool_sources CONFIGURE_DEPENDS "${codegen_dir}/coriogen/*.py")

  set(args "${source}" -o "${output}" --depfile "${depfile}")
  set(outputs "${output}")
  if(G_HEADER)
    list(APPEND args --header "${dir}/${stem}.gen.h")
    list(APPEND outputs "${dir}/${stem}.gen.h")
  endif()
  foreach(inc IN LISTS G_INCLUDE_DIRS)
    list(APPEND args "-I${inc}")
  endforeach()
  foreach(def IN LISTS G_DEFINES)
    list(APPEND args "-D${def}")
  endforeach()
  if(G_TARGET)
    # The same headers and macros the compiler will see for the target.
    set(incs "$<TARGET_PROPERTY:${G_TARGET},INCLUDE_DIRECTORIES>")
    set(defs "$<TARGET_PROPERTY:${G_TARGET},COMPILE_DEFINITIONS>")
    # $<SEMICOLON>: a literal ';' here would split the expression itself;
    # after evaluation COMMAND_EXPAND_LISTS makes one argument per item.
    list(APPEND args
      "$<$<BOOL:${incs}>:-I$<JOIN:${incs},$<SEMICOLON>-I>>"
      "$<$<BOOL:${defs}>:-D$<JOIN:${defs},$<SEMICOLON>-D>>")
  endif()

  # `#include "x.h"` in the input means the input's own directory, not
  # the build directory the generated copy lives in.
  get_filename_component(source_dir "${source}" DIRECTORY)
  set_source_files_properties("${output}" PROPERTIES
    INCLUDE_DIRECTORIES "${source_dir}")

  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E env "PYTHONPATH=${codegen_dir}"
            "${CORIO_CODEGEN_PYTHON}" -m coriogen ${args}
    DEPENDS "${source}" ${tool_sources}
    DEPFILE "${depfile}"
    COMMENT "coriogen ${input}"
    COMMAND_EXPAND_LISTS
    VERBATIM)
  set(${out_var} "${output}" PARENT_SCOPE)
endfunction()

function(corio_add_async_sources target)
  foreach(input IN LISTS ARGN)
    corio_generate(generated "${input}" TARGET ${target})
    target_sources(${target} PRIVATE "${generated}")
  endforeach()
endfunction()
