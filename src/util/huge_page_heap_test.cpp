// The heap of a program linked like the node (util_tests links peerchain_allocator): memory
// tcmalloc takes from the system comes from mappings marked for transparent huge pages.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace {

struct Mapping {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    std::string vm_flags;
    std::uint64_t anon_huge_kb = 0;
};

// The entry of /proc/self/smaps that holds `address` (unused in builds without tcmalloc).
[[maybe_unused]] std::optional<Mapping> mapping_of(std::uintptr_t address) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    std::optional<Mapping> found;
    bool in_it = false;
    while (std::getline(smaps, line)) {
        const auto dash = line.find('-');
        const auto space = line.find(' ');
        if (dash != std::string::npos && space != std::string::npos && dash < space &&
            line.find(':') > space) {
            if (in_it) break;
            const std::uintptr_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
            const std::uintptr_t hi =
                std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
            in_it = lo <= address && address < hi;
            if (in_it) found = Mapping{lo, hi, {}, 0};
            continue;
        }
        if (!in_it) continue;
        if (line.rfind("VmFlags:", 0) == 0) found->vm_flags = line.substr(8) + " ";
        if (line.rfind("AnonHugePages:", 0) == 0) {
            std::istringstream(line.substr(14)) >> found->anon_huge_kb;
        }
    }
    return found;
}

TEST(HugePageHeap, TheHeapGrowsInMappingsMarkedForHugePages) {
#ifndef PEERCHAIN_HUGE_PAGE_HEAP
    GTEST_SKIP() << "built without tcmalloc, so with the C library's heap";
#else
    if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
        GTEST_SKIP() << "a kernel without transparent huge pages";
    }
    // Larger than anything the test program has freed: tcmalloc grows its heap for it.
    constexpr std::size_t kBytes = std::size_t{24} << 20;
    const auto block = std::make_unique<char[]>(kBytes);
    std::memset(block.get(), 1, kBytes);
    const auto m = mapping_of(reinterpret_cast<std::uintptr_t>(block.get()));
    ASSERT_TRUE(m.has_value());
    // "hg": madvise(MADV_HUGEPAGE) holds for the mapping. Whether the kernel found free
    // 2 MiB pages for it depends on the machine, so that is only reported.
    EXPECT_NE(m->vm_flags.find(" hg "), std::string::npos) << "VmFlags:" << m->vm_flags;
    EXPECT_GE(m->end - m->start, kBytes);
    std::printf("heap mapping of %zu MiB, %llu KiB of it in huge pages\n",
                static_cast<std::size_t>((m->end - m->start) >> 20),
                static_cast<unsigned long long>(m->anon_huge_kb));
#endif
}

}  // namespace
