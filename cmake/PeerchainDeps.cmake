# Third-party dependencies, all from Debian 12 packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG QUIET)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)

find_path(LEVELDB_INCLUDE_DIR leveldb/db.h REQUIRED)
find_library(LEVELDB_LIBRARY leveldb REQUIRED)
add_library(peerchain_leveldb INTERFACE)
target_include_directories(peerchain_leveldb SYSTEM INTERFACE ${LEVELDB_INCLUDE_DIR})
target_link_libraries(peerchain_leveldb INTERFACE ${LEVELDB_LIBRARY})

if(PEERCHAIN_BUILD_TESTS)
    find_package(GTest REQUIRED)
endif()
if(PEERCHAIN_BUILD_BENCH)
    find_package(benchmark REQUIRED)
endif()

# The allocator of the node and of the benchmarks it is measured against: tcmalloc
# (libgoogle-perftools-dev, its minimal library, without the profiler); docs/ARCHITECTURE.md
# says why. Not under sanitizers or the fuzzer, which bring their own; -DPEERCHAIN_TCMALLOC=OFF
# builds with glibc's malloc.
option(PEERCHAIN_TCMALLOC "Link the node and the benchmarks with tcmalloc" ON)
add_library(peerchain_allocator INTERFACE)
if(PEERCHAIN_TCMALLOC AND NOT PEERCHAIN_SANITIZE AND NOT PEERCHAIN_FUZZ)
    find_library(TCMALLOC_MINIMAL_LIBRARY tcmalloc_minimal REQUIRED)
    # Nothing calls it by name (it replaces malloc and operator new): without
    # --no-as-needed the linker would leave it out.
    target_link_libraries(peerchain_allocator INTERFACE
        "-Wl,--push-state,--no-as-needed" ${TCMALLOC_MINIMAL_LIBRARY} "-Wl,--pop-state")
    # Its heap in 2 MiB pages (src/util/huge_page_heap.cpp says why): compiled into each
    # program that links it.
    target_sources(peerchain_allocator INTERFACE ${PROJECT_SOURCE_DIR}/src/util/huge_page_heap.cpp)
    target_compile_definitions(peerchain_allocator INTERFACE PEERCHAIN_HUGE_PAGE_HEAP=1)
endif()

# Boost.Asio/Beast are header-only; keep their deprecated APIs out.
add_library(peerchain_boost INTERFACE)
target_include_directories(peerchain_boost SYSTEM INTERFACE ${Boost_INCLUDE_DIRS})
target_compile_definitions(peerchain_boost INTERFACE BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(peerchain_boost INTERFACE Boost::json Threads::Threads)
