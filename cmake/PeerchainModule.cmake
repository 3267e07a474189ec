# peerchain_module(NAME SOURCES ... DEPS ... [STRICT])
#   One static library per folder under src/, named peerchain_<NAME>. DEPS lists other
#   modules (by short name) and third-party targets. STRICT adds -Wconversion (core, crypto).
set(PEERCHAIN_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Werror)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    list(APPEND PEERCHAIN_WARNINGS -Wthread-safety)
endif()
# GCC 12 at -O3 (Release) inlines libstdc++'s std::string and std::vector code deep enough
# to raise known false positives of its flow-based buffer warnings, all inside libstdc++:
# -Wrestrict on "literal" + std::string ("accessing 9223372036854775810 or more bytes";
# GCC bugs 105329, 105651), -Wstringop-overread on comparing two std::vector<uint8_t>
# (memcmp with a bound it cannot narrow), and -Warray-bounds on a vector insert's
# reallocating path (GCC bug 107852). Only these are off, only in Release on GCC 12 and
# later; they stay errors in every other build (-O2 RelWithDebInfo, Debug, clang), which
# sees the same code. -Wstringop-overflow stays an error in Release too: its false
# positives (bug 107852, a first insert into an empty vector, in core/sighash.cpp and the
# conformance generator) went by rewording the code (issue 10). scripts/test.sh builds
# Release in CI, so a new warning fails there; prefer code GCC can follow to a longer list.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    foreach(flag restrict stringop-overread array-bounds)
        list(APPEND PEERCHAIN_WARNINGS $<$<CONFIG:Release>:-Wno-${flag}>)
    endforeach()
endif()

# libFuzzer needs coverage feedback from the libraries a fuzz target links, not only from
# the target itself (which fuzz/CMakeLists.txt builds with -fsanitize=fuzzer), and a fuzzer
# finds most when memory errors and UB stop it where they happen.
if(PEERCHAIN_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "PEERCHAIN_FUZZ needs clang (libFuzzer); use the fuzz preset")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
    if(NOT PEERCHAIN_SANITIZE)
        set(PEERCHAIN_SANITIZE address,undefined)
    endif()
endif()
# Everything compiled here gets the same instrumentation. A finding aborts the process
# (-fno-sanitize-recover) so that the test fails instead of printing a report nobody reads.
if(PEERCHAIN_SANITIZE)
    add_compile_options(-fsanitize=${PEERCHAIN_SANITIZE} -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${PEERCHAIN_SANITIZE} -fno-sanitize-recover=all)
endif()

function(_peerchain_resolve_deps out)
    set(resolved)
    foreach(dep IN LISTS ARGN)
        if(dep IN_LIST PEERCHAIN_MODULES)
            list(APPEND resolved peerchain_${dep})
        else()
            list(APPEND resolved ${dep})
        endif()
    endforeach()
    set(${out} ${resolved} PARENT_SCOPE)
endfunction()

function(peerchain_module NAME)
    cmake_parse_arguments(M "STRICT" "" "SOURCES;DEPS" ${ARGN})
    add_library(peerchain_${NAME} STATIC ${M_SOURCES})
    target_include_directories(peerchain_${NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src)
    target_compile_options(peerchain_${NAME} PRIVATE ${PEERCHAIN_WARNINGS})
    if(M_STRICT)
        target_compile_options(peerchain_${NAME} PRIVATE -Wconversion -Wsign-conversion)
    endif()
    _peerchain_resolve_deps(deps ${M_DEPS})
    target_link_libraries(peerchain_${NAME} PUBLIC ${deps})
endfunction()

# peerchain_unit_test(NAME SOURCES ... DEPS ...)
#   The module's one GoogleTest binary, <NAME>_tests, registered with ctest (label "unit").
function(peerchain_unit_test NAME)
    if(NOT PEERCHAIN_BUILD_TESTS)
        return()
    endif()
    cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
    add_executable(${NAME}_tests ${T_SOURCES})
    target_compile_options(${NAME}_tests PRIVATE ${PEERCHAIN_WARNINGS})
    _peerchain_resolve_deps(deps ${T_DEPS})
    target_link_libraries(${NAME}_tests PRIVATE peerchain_${NAME} ${deps} peerchain_testutil
                                                GTest::gtest GTest::gtest_main)
    add_test(NAME ${NAME}_tests COMMAND ${NAME}_tests --gtest_brief=1)
    set_tests_properties(${NAME}_tests PROPERTIES LABELS unit TIMEOUT 300)
endfunction()
