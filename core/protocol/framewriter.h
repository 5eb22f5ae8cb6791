#pragma once

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <mutex>
#include <string>

namespace mm::protocol {

// Writes frames to a file descriptor, one JSON object per line, from any thread: one mutex
// keeps concurrent requests' frames whole and in the order they were written.
class FrameWriter
{
public:
    FrameWriter(int fd, std::size_t maxFrameBytes);

    // Serialises and writes one frame. Strings that are not UTF-8 are written with U+FFFD
    // instead of failing (paths should have gone through maildir::putPath already).
    // Errors: InvalidData when the frame exceeds the limit (nothing written), IoError when the
    // descriptor is gone (the peer closed the pipe); after that every write fails.
    Status write(const nlohmann::json &frame);

    static std::string serialise(const nlohmann::json &frame);

    bool broken() const;

private:
    int m_fd;
    std::size_t m_maxFrameBytes;
    mutable std::mutex m_mutex;
    bool m_broken = false;
};

} // namespace mm::protocol
