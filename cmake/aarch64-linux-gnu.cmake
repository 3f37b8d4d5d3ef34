# SPDX-License-Identifier: Apache-2.0
# Cross-compiling for linux/arm64 on a Debian amd64 host with Debian's cross toolchain
# (g++-aarch64-linux-gnu) and the arm64 -dev packages installed through dpkg multiarch
# (`dpkg --add-architecture arm64`; hack/deps.sh). Their headers are the same files as amd64's
# in /usr/include, their libraries and pkg-config files in /usr/lib/aarch64-linux-gnu.
#   cmake -S . -B build/arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake   (hack/cross.sh)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# No CMAKE_FIND_ROOT_PATH: with multiarch the arm64 libraries and CMake package files sit in
# /usr/lib/aarch64-linux-gnu, which CMake searches through CMAKE_LIBRARY_ARCHITECTURE, and the
# amd64 ones in /usr/lib/x86_64-linux-gnu, which it then does not.
# pkg-config: the arm64 .pc files only (libnftnl, libmnl, cpp-httplib), and the architecture-
# independent ones.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
