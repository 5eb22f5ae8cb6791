#include "sandbox/loopbackclient.h"

#include <QDeadlineTimer>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mm::sandbox {

namespace {

std::string lastError(const char *what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

Result<LoopbackClient> LoopbackClient::connect(quint16 port, int timeoutMs)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(ErrorCode::IoError, lastError("socket"));
    LoopbackClient client(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        if (errno != EINPROGRESS)
            return fail(ErrorCode::Unreachable, lastError("connect"));
        pollfd watched{fd, POLLOUT, 0};
        if (::poll(&watched, 1, timeoutMs) <= 0)
            return fail(ErrorCode::Timeout,
                        "connect to 127.0.0.1:" + std::to_string(port) + " timed out");
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            errno = error;
            return fail(ErrorCode::Unreachable, lastError("connect"));
        }
    }
    return client;
}

LoopbackClient::LoopbackClient(LoopbackClient &&other) noexcept
    : m_fd(std::exchange(other.m_fd, -1))
    , m_buffer(std::move(other.m_buffer))
{
}

LoopbackClient &LoopbackClient::operator=(LoopbackClient &&other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
        m_buffer = std::move(other.m_buffer);
    }
    return *this;
}

LoopbackClient::~LoopbackClient()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

Status LoopbackClient::send(const QByteArray &data, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    qsizetype sent = 0;
    while (sent < data.size()) {
        const ssize_t n =
            ::send(m_fd, data.constData() + sent, size_t(data.size() - sent), MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return fail(ErrorCode::IoError, lastError("send"));
        pollfd watched{m_fd, POLLOUT, 0};
        if (::poll(&watched, 1, int(deadline.remainingTime())) <= 0)
            return fail(ErrorCode::Timeout, "send timed out");
    }
    return {};
}

Result<bool> LoopbackClient::fill(int timeoutMs)
{
    pollfd watched{m_fd, POLLIN, 0};
    const int ready = ::poll(&watched, 1, timeoutMs);
    if (ready < 0 && errno != EINTR)
        return fail(ErrorCode::IoError, lastError("poll"));
    if (ready <= 0)
        return true; // nothing yet, not closed
    char chunk[4096];
    const ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return true;
        return fail(ErrorCode::IoError, lastError("recv"));
    }
    if (n == 0)
        return false;
    m_buffer.append(chunk, n);
    return true;
}

Result<QByteArray> LoopbackClient::readLine(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        const qsizetype newline = m_buffer.indexOf('\n');
        if (newline >= 0) {
            QByteArray line = m_buffer.left(newline + 1);
            m_buffer.remove(0, newline + 1);
            return line;
        }
        if (deadline.hasExpired())
            return fail(ErrorCode::Timeout, "no complete line in time");
        Result<bool> open = fill(int(deadline.remainingTime()));
        if (!open)
            return fail(open.error());
        if (!*open) {
            if (m_buffer.isEmpty())
                return fail(ErrorCode::Unreachable, "connection closed by the peer");
            return std::exchange(m_buffer, {});
        }
    }
}

Result<QByteArray> LoopbackClient::readToEnd(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (deadline.hasExpired())
            return fail(ErrorCode::Timeout, "the peer did not close in time");
        Result<bool> open = fill(int(deadline.remainingTime()));
        if (!open)
            return fail(open.error());
        if (!*open)
            return std::exchange(m_buffer, {});
    }
}

} // namespace mm::sandbox
