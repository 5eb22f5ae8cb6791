#pragma once

#include "common/result.h"

#include <QByteArray>

namespace mm::sandbox {

// A blocking TCP client for 127.0.0.1, for readiness probes and test helpers. The sandbox links
// Qt Core only, and these exchanges are a few lines long: POSIX sockets with poll() deadlines
// are simpler than an event loop here. Never use it on a GUI thread.
class LoopbackClient
{
public:
    static Result<LoopbackClient> connect(quint16 port, int timeoutMs);

    LoopbackClient(LoopbackClient &&other) noexcept;
    LoopbackClient &operator=(LoopbackClient &&other) noexcept;
    LoopbackClient(const LoopbackClient &) = delete;
    LoopbackClient &operator=(const LoopbackClient &) = delete;
    ~LoopbackClient();

    Status send(const QByteArray &data, int timeoutMs);
    // One line including its "\n" (or what came before EOF).
    Result<QByteArray> readLine(int timeoutMs);
    // Everything until the peer closes.
    Result<QByteArray> readToEnd(int timeoutMs);

private:
    explicit LoopbackClient(int fd)
        : m_fd(fd)
    {
    }
    // Appends what arrives within timeoutMs; false on EOF.
    Result<bool> fill(int timeoutMs);

    int m_fd = -1;
    QByteArray m_buffer;
};

} // namespace mm::sandbox
