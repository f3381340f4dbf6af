// proto/sha256.hpp: SHA-256 (FIPS 180-4), incremental. The quarantine uses
// it to recognise a message it already stored when the MTA delivers it a
// second time (a crash between commit and exit), not for any security
// decision. Pure: no I/O.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mxw::proto {

class sha256 {
public:
    sha256() noexcept;
    /// Any split of the input gives the same digest.
    void update(std::string_view bytes) noexcept;
    /// The digest; the object must not be updated afterwards.
    [[nodiscard]] std::array<std::uint8_t, 32> finish() noexcept;

private:
    void block(const std::uint8_t* p) noexcept;
    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buf_{};
    std::size_t buffered_ = 0;  // bytes in buf_, always < 64 between calls
    std::uint64_t total_ = 0;   // message length in bytes
};

/// Lower-case hex of the digest of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace mxw::proto
