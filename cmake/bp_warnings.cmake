# Special target that carries warnings and sanitizer flags. Never installed or exported.
add_library(bp_warnings INTERFACE)
target_compile_options(bp_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # GCC 12 misreports the operator new/delete pair of Asio coroutine frames.
  -Wno-mismatched-new-delete)
if(BP_WERROR)
  target_compile_options(bp_warnings INTERFACE -Werror)
endif()
if(BP_SANITIZE)
  target_compile_options(bp_warnings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(bp_warnings INTERFACE -fsanitize=address,undefined)
endif()
