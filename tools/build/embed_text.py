#!/usr/bin/python3
"""Write a C++ header holding a text file as a string_view constant: embed_text.py IN OUT NAME."""
import sys

src, out, name = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
delim = "TCPR_EMBED"
if ")" + delim + '"' in text:
    sys.exit(f"{src}: contains the raw-string delimiter")
with open(out, "w", encoding="utf-8") as f:
    f.write("// Generated from " + src.split("/")[-1] + " by tools/build/embed_text.py. Do not edit.\n")
    f.write("#pragma once\n#include <string_view>\n")
    f.write(f'inline constexpr std::string_view {name} = R"{delim}({text}){delim}";\n')
