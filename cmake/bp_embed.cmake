# bp_embed_text(TARGET <tgt> SYMBOL <name> FILE <path>)
# Turns a data file into a generated .cpp that defines
#   extern const std::string_view <name>;
# so the binary needs nothing at run time. The file is re-embedded when it changes.
function(bp_embed_text)
  cmake_parse_arguments(E "" "TARGET;SYMBOL;FILE" "" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${E_SYMBOL}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${E_FILE} -DOUT=${out} -DSYMBOL=${E_SYMBOL}
            -P ${PROJECT_SOURCE_DIR}/cmake/bp_embed_run.cmake
    DEPENDS ${E_FILE} ${PROJECT_SOURCE_DIR}/cmake/bp_embed_run.cmake
    COMMENT "Embedding ${E_FILE}")
  target_sources(${E_TARGET} PRIVATE ${out})
endfunction()
