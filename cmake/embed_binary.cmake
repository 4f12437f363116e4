# SPDX-License-Identifier: Apache-2.0
# cmake -DINPUT=FILE -DOUTPUT=FILE.c -DSYMBOL=name -P embed_binary.cmake
# Writes FILE's bytes as `const unsigned char name[]` and `name_size`, so a
# program built by the project can be carried inside the library.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${INPUT} by cmake/embed_binary.cmake. */\n"
  "#include <stddef.h>\n"
  "__attribute__((visibility(\"hidden\"))) const unsigned char ${SYMBOL}[] = {\n${bytes}\n};\n"
  "__attribute__((visibility(\"hidden\"))) const size_t ${SYMBOL}_size = ${size};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
