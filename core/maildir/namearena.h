#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace mm::maildir {

// Names packed into 1 MiB chunks: no per-name allocation and no doubling copy of one huge
// buffer, so a million names cost their bytes plus a little. A name is found again by the
// 64-bit position add() returned and its length.
class NameArena
{
public:
    static constexpr std::size_t kChunk = 1 << 20;

    std::uint64_t add(std::string_view name)
    {
        if (m_chunks.empty() || m_used + name.size() > kChunk) {
            // Not zero-filled: a small folder touches only the pages its names need.
            m_chunks.push_back(std::make_unique_for_overwrite<char[]>(kChunk));
            m_used = 0;
        }
        std::memcpy(m_chunks.back().get() + m_used, name.data(), name.size());
        const std::uint64_t at = (std::uint64_t(m_chunks.size() - 1) << 20) | m_used;
        m_used += name.size();
        return at;
    }
    std::string_view get(std::uint64_t at, std::size_t len) const
    {
        return {m_chunks[at >> 20].get() + (at & (kChunk - 1)), len};
    }

private:
    std::vector<std::unique_ptr<char[]>> m_chunks;
    std::size_t m_used = 0;
};

} // namespace mm::maildir
