#include "remote/agentcall.h"

#include "remote/agentclient.h"

namespace mm::remote {

AgentCall::AgentCall(AgentClient *client, QString id, QString command, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_id(std::move(id))
    , m_command(std::move(command))
    , m_result(fail(ErrorCode::InternalError, "the call has not finished"))
{
}

void AgentCall::cancel()
{
    if (m_finished || m_cancelSent)
        return;
    m_cancelSent = true;
    if (m_client)
        m_client->sendCancel(m_id);
}

void AgentCall::finish(Result<QJsonObject> result)
{
    if (m_finished)
        return;
    m_finished = true;
    m_result = std::move(result);
    Q_EMIT finished();
}

} // namespace mm::remote
