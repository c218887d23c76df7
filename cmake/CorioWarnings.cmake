# SPDX-License-Identifier: MIT
# corio_set_warnings(target): the project's warning set, -Werror when
# CORIO_WERROR is on (CI).
include(CheckCCompilerFlag)

set(CORIO_WARNING_FLAGS
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wcast-align -Wwrite-strings -Wformat=2 -Wvla
  -Wundef -Wno-unused-parameter)

function(corio_set_warnings target)
  foreach(flag ${CORIO_WARNING_FLAGS})
    string(MAKE_C_IDENTIFIER "HAS${flag}" var)
    check_c_compiler_flag(${flag} ${var})
    if(${var})
      target_compile_options(${target} PRIVATE ${flag})
    endif()
  endforeach()
  if(CORIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
