# SPDX-License-Identifier: Apache-2.0
# Sets CAPSPAWN_PYTHON_FOUND: whether the Python package can be built here.
# The interpreter is the system's (/usr/bin/python3) unless Python3_EXECUTABLE
# names another: one earlier in PATH (a pyenv, a venv) may lack the packages
# the tests use; pass -DPython3_EXECUTABLE=... to build for it.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python interpreter")
endif()
find_package(Python3 3.9 QUIET COMPONENTS Interpreter Development.Module)
find_package(pybind11 2.6 QUIET CONFIG)
if(Python3_FOUND AND pybind11_FOUND)
  set(CAPSPAWN_PYTHON_FOUND ON)
else()
  set(CAPSPAWN_PYTHON_FOUND OFF)
  message(STATUS "capspawn: no Python package (needs Python 3 development files and pybind11: "
                 "python3-dev pybind11-dev)")
endif()
