#include "protocol/framewriter.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace mm::protocol {

FrameWriter::FrameWriter(int fd, std::size_t maxFrameBytes)
    : m_fd(fd)
    , m_maxFrameBytes(maxFrameBytes)
{
}

std::string FrameWriter::serialise(const nlohmann::json &frame)
{
    return frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status FrameWriter::write(const nlohmann::json &frame)
{
    std::string line = serialise(frame);
    if (line.size() > m_maxFrameBytes)
        return fail(ErrorCode::InvalidData, "frame of " + std::to_string(line.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(m_maxFrameBytes));
    line += '\n';

    const std::lock_guard lock(m_mutex);
    if (m_broken)
        return fail(ErrorCode::IoError, "the output stream is closed");
    std::size_t written = 0;
    while (written < line.size()) {
        const ssize_t n = ::write(m_fd, line.data() + written, line.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            m_broken = true;
            return fail(ErrorCode::IoError,
                        std::string("writing a frame failed: ") + std::strerror(errno));
        }
        written += static_cast<std::size_t>(n);
    }
    return {};
}

bool FrameWriter::broken() const
{
    const std::lock_guard lock(m_mutex);
    return m_broken;
}

} // namespace mm::protocol
