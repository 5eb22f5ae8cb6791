#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// Many short names in one buffer: a 200,000-entry new/ costs two allocations, not 200,000.
class NameList
{
public:
    void reserve(std::size_t names, std::size_t bytes)
    {
        m_offsets.reserve(names);
        m_bytes.reserve(bytes);
    }
    void add(std::string_view name)
    {
        m_offsets.push_back({std::uint32_t(m_bytes.size()), std::uint32_t(name.size())});
        m_bytes.append(name);
    }
    std::size_t size() const { return m_offsets.size(); }
    bool empty() const { return m_offsets.empty(); }
    std::string_view operator[](std::size_t i) const
    {
        return std::string_view(m_bytes.data() + m_offsets[i].offset, m_offsets[i].length);
    }
    void clear()
    {
        m_offsets.clear();
        m_bytes.clear();
    }
    // Bytewise order, so every node processes a folder in the same order.
    void sort();

private:
    struct Span
    {
        std::uint32_t offset;
        std::uint32_t length;
    };
    std::vector<Span> m_offsets;
    std::string m_bytes;
};

} // namespace mm::maildir
