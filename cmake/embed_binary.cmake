# SPDX-License-Identifier: Apache-2.0
# cmake -DINPUT=FILE -DOUTPUT=FILE.cc -DNAMESPACE=ns -DSYMBOL=name -P embed_binary.cmake
# Writes FILE's bytes as C++ `ns::name[]` and `ns::name_size` (hidden), so a
# program built by the project can be carried inside the library without a
# C-linkage symbol (C entries are the API's alone: src/api).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed_binary.cmake.\n"
  "#include <cstddef>\n"
  "namespace ${NAMESPACE} {\n"
  "extern __attribute__((visibility(\"hidden\"))) const unsigned char ${SYMBOL}[] = {\n${bytes}\n};\n"
  "extern __attribute__((visibility(\"hidden\"))) const std::size_t ${SYMBOL}_size = ${size};\n"
  "}  // namespace ${NAMESPACE}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
