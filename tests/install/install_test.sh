#!/usr/bin/env bash
# usage: install_test.sh BUILD_DIR CONSUMER_SRC
set -euo pipefail
build=$1
consumer=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
for f in include/capspawn/spawn.h include/capspawn/startup.h include/capspawn/processargs.h; do
  test -f "$prefix/$f" || { echo "missing $f"; exit 1; }
done
ls "$libdir"/libcapspawn.so* "$libdir"/libcapspawn.a >/dev/null
test -f "$libdir/pkgconfig/capspawn.pc"
test -f "$libdir/cmake/capspawn/capspawnConfig.cmake"

# pkg-config, shared and static.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -o "$scratch/shared" "$consumer/consumer.c" $(pkg-config --cflags --libs capspawn) -Wl,-rpath,"$libdir"
"$scratch/shared"
cc -o "$scratch/static" "$consumer/consumer.c" $(pkg-config --cflags capspawn) \
  "$libdir/libcapspawn.a" $(pkg-config --libs-only-l --static capspawn | sed 's/-lcapspawn//') -lstdc++
"$scratch/static"
if ldd "$scratch/static" | grep -q libcapspawn; then echo "static consumer links libcapspawn.so"; exit 1; fi

# find_package(capspawn) and the capspawn::capspawn target.
cmake -S "$consumer" -B "$scratch/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/cmake-build" >/dev/null
LD_LIBRARY_PATH=$libdir "$scratch/cmake-build/consumer"
echo "install: headers, shared + static library, capspawn.pc and capspawn::capspawn all work"
