#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The install test: capspawn as a user outside the tree gets it.
#   install_test.sh BUILD_DIR CONSUMER_DIR            install BUILD_DIR into a scratch
#                                                     prefix (not /usr) and test that
#   install_test.sh --installed PREFIX CONSUMER_DIR   test what is installed at PREFIX
#                                                     (the Debian packages: /usr)
# Checks: headers, both libraries, capspawn.pc, capspawn-static.pc and the
# CMake package; C and C++ consumers, each with the compiler's default
# standard, linked against the shared and the static library through
# pkg-config and through find_package (also from a C-only project); the
# programs run from the prefix (RUNPATH); one version everywhere; no absolute
# library paths in the exported targets.
set -euo pipefail
if [[ $1 == --installed ]]; then
  prefix=$2
  consumer=$3
  build=
else
  build=$1
  consumer=$2
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "install test: FAIL: $*"; exit 1; }
if [[ -n $build ]]; then
  prefix=$scratch/prefix
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
libdir=
for d in "$prefix/lib/$multiarch" "$prefix/lib64" "$prefix/lib"; do
  [[ -f $d/pkgconfig/capspawn.pc ]] && { libdir=$d; break; }
done
[[ -n $libdir ]] || fail "no capspawn.pc under $prefix"
version=$(sed -nE 's/^#define CAPSPAWN_VERSION_STRING "(.*)"$/\1/p' "$prefix/include/capspawn/version.h")
[[ -n $version ]] || fail "no CAPSPAWN_VERSION_STRING in $prefix/include/capspawn/version.h"

# What is installed.
for f in spawn.h start.h startup.h processargs.h status.h job.h version.h process_builder.h elf.h; do
  [[ -f $prefix/include/capspawn/$f ]] || fail "missing include/capspawn/$f"
done
for f in libcapspawn.so libcapspawn.a "libcapspawn.so.${version%%.*}" pkgconfig/capspawn-static.pc \
  cmake/capspawn/capspawnConfig.cmake cmake/capspawn/capspawnConfigVersion.cmake; do
  [[ -e $libdir/$f ]] || fail "missing $libdir/$f"
done
for f in bin/capspawn bin/capspawn-launcherd; do
  [[ -x $prefix/$f ]] || fail "missing $f"
done

# One version: the header, both programs, pkg-config, the CMake package.
export PKG_CONFIG_PATH=$libdir/pkgconfig
[[ $("$prefix/bin/capspawn" --version) == "capspawn $version" ]] || fail "capspawn --version"
[[ $("$prefix/bin/capspawn-launcherd" --version) == "capspawn-launcherd $version" ]] ||
  fail "capspawn-launcherd --version"
[[ $(pkg-config --modversion capspawn) == "$version" ]] || fail "capspawn.pc version"
grep -q "PACKAGE_VERSION \"$version\"" "$libdir/cmake/capspawn/capspawnConfigVersion.cmake" ||
  fail "capspawnConfigVersion.cmake"

# Installed programs find their library from the prefix, not from a path
# baked in at build time nor from LD_LIBRARY_PATH.
readelf -d "$prefix/bin/capspawn" >"$scratch/dynamic"
grep -q 'RUNPATH.*\$ORIGIN/\.\./lib' "$scratch/dynamic" || fail "capspawn has no \$ORIGIN RUNPATH"
resolved=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/capspawn" | awk '/libcapspawn/ {print $3}' || true)
[[ $(realpath "$resolved") == $(realpath "$libdir")/* ]] || fail "capspawn loads $resolved, not $libdir's"
[[ $(env -u LD_LIBRARY_PATH "$prefix/bin/capspawn" run -- /bin/echo ok) == ok ]] || fail "capspawn run from the prefix"

# The exported targets name no library of the build machine by absolute path.
if grep -nE '"/(usr/)?lib[^"]*\.(so|a)' "$libdir"/cmake/capspawn/capspawnTargets*.cmake; then
  fail "absolute library paths in capspawnTargets"
fi
[[ $(pkg-config --static --libs capspawn) == *-lstdc++* ]] || fail "pkg-config --static --libs capspawn lacks -lstdc++"

# pkg-config: C and C++, shared and static, default standards.
run() {  # name: runs it, and says which libcapspawn it loaded
  local exe=$scratch/$1
  env -u LD_LIBRARY_PATH "$exe" >"$scratch/$1.out" || { cat "$scratch/$1.out"; fail "$1 failed"; }
  # ldd's output whole: grep -q closing the pipe early would fail it under pipefail.
  ldd "$exe" >"$scratch/$1.ldd"
  if [[ $1 == *static* ]]; then
    if grep -q libcapspawn "$scratch/$1.ldd"; then fail "$1 links libcapspawn.so"; fi
  else
    grep -q "libcapspawn.so" "$scratch/$1.ldd" || fail "$1 does not link libcapspawn.so"
  fi
  echo "install: $1: $(head -1 "$scratch/$1.out")"
}
rpath=-Wl,-rpath,$libdir
# shellcheck disable=SC2046
cc -o "$scratch/pc_c_shared" "$consumer/consumer.c" $(pkg-config --cflags --libs capspawn) "$rpath"
# shellcheck disable=SC2046
cc -o "$scratch/pc_c_static" "$consumer/consumer.c" $(pkg-config --cflags --libs capspawn-static)
# shellcheck disable=SC2046
c++ -o "$scratch/pc_cc_shared" "$consumer/consumer.cc" $(pkg-config --cflags --libs capspawn) "$rpath"
# shellcheck disable=SC2046
c++ -o "$scratch/pc_cc_static" "$consumer/consumer.cc" $(pkg-config --cflags --libs capspawn-static)
for exe in pc_c_shared pc_c_static pc_cc_shared pc_cc_static; do run "$exe"; done

# find_package: a C and C++ project, and a C-only one.
for project in consumer consumer_c; do
  cmake -S "$consumer/../$project" -B "$scratch/$project" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$scratch/$project.log" 2>&1 || { cat "$scratch/$project.log"; fail "cmake $project"; }
  cmake --build "$scratch/$project" >>"$scratch/$project.log" 2>&1 || { cat "$scratch/$project.log"; fail "build $project"; }
  for exe in "$scratch/$project"/*_shared "$scratch/$project"/*_static; do
    cp "$exe" "$scratch/cmake_${exe##*/}"
    run "cmake_${exe##*/}"
  done
done
# The version file refuses other minor versions.
mkdir -p "$scratch/wrong"
printf 'cmake_minimum_required(VERSION 3.25)\nproject(w C)\nfind_package(capspawn 0.1 REQUIRED)\n' >"$scratch/wrong/CMakeLists.txt"
if cmake -S "$scratch/wrong" -B "$scratch/wrong/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  fail "find_package(capspawn 0.1) accepted $version"
fi
echo "install: version $version from $prefix: headers, shared + static library, capspawn.pc," \
  "capspawn-static.pc and capspawn::capspawn(_static) work from C and C++"
