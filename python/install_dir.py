# SPDX-License-Identifier: Apache-2.0
"""Prints where the capspawn package is installed under a prefix, relative to
it, for the interpreter running this script.

Debian's python3 reads /usr/lib/python3/dist-packages (its own packages') for
the /usr prefix and lib/python3.X/dist-packages under /usr/local; other
interpreters read their sysconfig scheme's platlib (lib/python3.X/site-packages).
"""

import os
import sys
import sysconfig

prefix = os.path.normpath(sys.argv[1])
if "deb_system" in sysconfig.get_scheme_names():
    if prefix == "/usr":
        print("lib/python3/dist-packages")
    else:
        print(f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/dist-packages")
else:
    platlib = sysconfig.get_path(
        "platlib", "posix_prefix", vars={"base": prefix, "platbase": prefix}
    )
    print(os.path.relpath(platlib, prefix))
