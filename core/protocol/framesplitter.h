#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mm::protocol {

// Cuts a byte stream into newline-terminated frames, enforcing a maximum frame size without
// ever buffering more than that: an oversized frame is skipped up to its newline and reported
// once, and the stream stays usable. A trailing '\r' is dropped; empty lines are ignored.
class FrameSplitter
{
public:
    struct Handler
    {
        std::function<void(std::string_view frame)> frame;
        std::function<void(std::size_t bytesSkipped)> oversized;
    };

    explicit FrameSplitter(std::size_t maxFrameBytes);

    void feed(std::string_view bytes, const Handler &handler);

    // The stream ended: an unterminated last frame is delivered (or reported) now.
    void finish(const Handler &handler);

private:
    void emit(const Handler &handler);

    std::size_t m_maxFrameBytes;
    std::string m_buffer;
    bool m_skipping = false;
    std::size_t m_skipped = 0;
};

} // namespace mm::protocol
