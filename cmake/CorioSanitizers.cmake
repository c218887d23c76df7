# SPDX-License-Identifier: MIT
# CORIO_SANITIZE=address,undefined (or thread) instruments every target.
if(CORIO_SANITIZE)
  set(_corio_san -fsanitize=${CORIO_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
  add_compile_options(${_corio_san})
  add_link_options(${_corio_san})
endif()
