# Script mode helper for bp_embed_text: writes the file as a raw string literal.
file(READ ${IN} content)
string(FIND "${content}" ")bp_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter")
endif()
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace bp::embedded {\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL} = R\"bp_embed(${content})bp_embed\";\n}\n")
