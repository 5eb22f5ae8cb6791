#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mm::maildir {

// SHA-256 (FIPS 180-4), written here because core/maildir links nothing but the standard library
// and nlohmann/json. Used for the deterministic rename of a BASE collision and for duplicate
// detection: every node must compute the same digest for the same bytes.
class Sha256
{
public:
    using Digest = std::array<std::uint8_t, 32>;

    Sha256() { reset(); }

    void reset();
    void update(const void *data, std::size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    Digest finish(); // the object is reset afterwards

    static Digest hash(std::string_view bytes);
    static std::string toHex(const Digest &digest);

private:
    void compress(const std::uint8_t *block);

    std::array<std::uint32_t, 8> m_state{};
    std::array<std::uint8_t, 64> m_buffer{};
    std::size_t m_buffered = 0;
    std::uint64_t m_totalBytes = 0;
};

} // namespace mm::maildir
