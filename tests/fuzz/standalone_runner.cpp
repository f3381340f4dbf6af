// Replays corpus files through a fuzz target without libFuzzer (the pdns
// trick): every normal build links each fuzz_*.cpp with this main() and runs
// it over tests/fuzz/corpus/<target>/, so seeds and crash reproducers stay
// regression tests on compilers without -fsanitize=fuzzer.
//
// Usage: fuzz_<target>_runner PATH...   (directories are walked recursively)
// Exit status 1 when a path is missing or a directory holds no files: an
// empty corpus would make the ctest pass while testing nothing.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool run_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        std::cerr << p.string() << ": cannot read\n";
        return false;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A heap copy of exactly the file's size lets ASan catch reads past the end,
    // as libFuzzer's own buffer would.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    std::cerr << "running " << p.string() << "\n";
    LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " CORPUS-DIR|FILE...\n";
        return 2;
    }
    int status = 0;
    std::size_t total = 0;
    for (int i = 1; i < argc; ++i) {
        fs::path root = argv[i];
        std::error_code ec;
        std::size_t count = 0;
        if (fs::is_regular_file(root, ec)) {
            count += run_file(root) ? 1 : 0;
        } else if (fs::is_directory(root, ec)) {
            for (const auto& entry : fs::recursive_directory_iterator(root))
                if (entry.is_regular_file())
                    count += run_file(entry.path()) ? 1 : 0;
        } else {
            std::cerr << root.string() << ": no such file or directory\n";
            status = 1;
            continue;
        }
        if (count == 0) {
            std::cerr << root.string() << ": no corpus files\n";
            status = 1;
        }
        total += count;
    }
    std::cout << argv[0] << ": ran " << total << " inputs\n";
    return status;
}
