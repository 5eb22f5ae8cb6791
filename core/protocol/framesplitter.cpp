#include "protocol/framesplitter.h"

namespace mm::protocol {

FrameSplitter::FrameSplitter(std::size_t maxFrameBytes)
    : m_maxFrameBytes(maxFrameBytes)
{
}

void FrameSplitter::feed(std::string_view bytes, const Handler &handler)
{
    while (!bytes.empty()) {
        const std::size_t newline = bytes.find('\n');
        const std::string_view chunk = bytes.substr(0, newline);
        if (m_skipping) {
            m_skipped += chunk.size();
        } else if (m_buffer.size() + chunk.size() > m_maxFrameBytes + 1) {
            // +1 leaves room for a '\r' that is not part of the frame.
            m_skipping = true;
            m_skipped = m_buffer.size() + chunk.size();
            m_buffer.clear();
            m_buffer.shrink_to_fit();
        } else {
            m_buffer.append(chunk);
        }
        if (newline == std::string_view::npos)
            return;
        emit(handler);
        bytes.remove_prefix(newline + 1);
    }
}

void FrameSplitter::finish(const Handler &handler)
{
    if (m_skipping || !m_buffer.empty())
        emit(handler);
}

void FrameSplitter::emit(const Handler &handler)
{
    if (!m_skipping && !m_buffer.empty() && m_buffer.back() == '\r')
        m_buffer.pop_back();
    if (m_skipping || m_buffer.size() > m_maxFrameBytes) {
        const std::size_t skipped = m_skipping ? m_skipped : m_buffer.size();
        m_skipping = false;
        m_skipped = 0;
        m_buffer.clear();
        if (handler.oversized)
            handler.oversized(skipped);
        return;
    }
    if (!m_buffer.empty() && handler.frame)
        handler.frame(m_buffer);
    m_buffer.clear();
}

} // namespace mm::protocol
