#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: unit tests, then the
# integration and scenario tests that start real peerchain processes on loopback.
# Usage: scripts/test.sh [--full] [ctest args...]   (build dir: $BUILD_DIR, default build/)
#
# With --full, or when CI=true, a second stage follows: a clang-format check, a Release
# build of everything, tests and benchmarks included (preset release, build-release/: GCC
# at -O3 warns where -O2 does not, and its warnings are errors too), the unit tests under
# AddressSanitizer and UBSan (preset asan, build-asan/), and a short run of every libFuzzer
# target on its corpus (preset fuzz, build-fuzz/). FUZZ_SECONDS sets the time per target
# (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

full=false
[ "${CI:-}" = true ] && full=true
args=()
for arg in "$@"; do
    if [ "$arg" = --full ]; then full=true; else args+=("$arg"); fi
done

scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2 ${args[@]+"${args[@]}"}

$full || exit 0

echo "== format: clang-format over src tests bench fuzz"
find src tests bench fuzz \( -name '*.cpp' -o -name '*.hpp' \) -print0 |
    xargs -0 clang-format --dry-run --Werror

# Built, not run: what it adds is the optimizer's view of the code, whose warnings
# (-Wstringop-overflow and its kin, issue 10) only an -O3 build meets.
echo "== release: everything at -O3 (CMAKE_BUILD_TYPE=Release)"
cmake --preset release -DPEERCHAIN_BUILD_TESTS=ON >/dev/null
cmake --build --preset release -j2

echo "== asan: unit tests under AddressSanitizer and UBSan"
cmake --preset asan >/dev/null
cmake --build --preset asan -j2
ctest --preset asan -j2

echo "== fuzz: every target for ${FUZZ_SECONDS:-20} s on its corpus"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2
for source in fuzz/*.cpp; do
    target=$(basename "$source" .cpp)
    # New inputs go to a scratch directory; the committed seeds stay as they are. A crash
    # leaves its input in build-fuzz/artifacts/ and fails the script.
    scratch=$(mktemp -d)
    mkdir -p build-fuzz/artifacts
    echo "-- fuzz_$target"
    status=0
    build-fuzz/fuzz/"fuzz_$target" "$scratch" "fuzz/corpus/$target" \
        -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="build-fuzz/artifacts/$target-" -print_final_stats=1 \
        >"build-fuzz/fuzz_$target.log" 2>&1 || status=$?
    rm -rf "$scratch"
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' \
        "build-fuzz/fuzz_$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "build-fuzz/fuzz_$target.log"
        echo "fuzz_$target failed (exit $status); see build-fuzz/artifacts/" >&2
        exit 1
    fi
done
echo "== all stages passed"
