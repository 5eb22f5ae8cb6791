#include "remote/agentcall.h"

#include "remote/agentclient.h"

#include <QJsonArray>
#include <QMap>

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

QJsonObject AgentCall::assembleStreamed(QJsonObject result, const QList<QJsonObject> &items)
{
    const QJsonValue streamed = result.value(QLatin1String("streamed"));
    if (!streamed.isObject())
        return result;
    // Which item key fills which list; agents before "lists" only streamed these two.
    QMap<QString, QString> lists{{QStringLiteral("folder"), QStringLiteral("folders")},
                                 {QStringLiteral("problem"), QStringLiteral("problems")}};
    const QJsonObject named = streamed.toObject().value(QLatin1String("lists")).toObject();
    if (!named.isEmpty()) {
        lists.clear();
        for (auto it = named.begin(); it != named.end(); ++it)
            lists.insert(it.key(), it->toString());
    }
    QMap<QString, QJsonArray> rebuilt;
    QJsonObject pending; // an element arriving in parts
    QString pendingKey;
    const auto flush = [&] {
        if (pendingKey.isEmpty())
            return;
        pending.remove(QLatin1String("part"));
        pending.remove(QLatin1String("parts"));
        rebuilt[lists.value(pendingKey)].append(pending);
        pending = {};
        pendingKey.clear();
    };
    for (const QJsonObject &item : items) {
        if (item.size() != 1 || !lists.contains(item.begin().key()))
            continue;
        const QString key = item.begin().key();
        const QJsonValue value = item.begin().value();
        const QJsonObject element = value.toObject();
        if (!value.isObject() || element.value(QLatin1String("parts")).toInt() <= 1) {
            flush();
            rebuilt[lists.value(key)].append(value);
            continue;
        }
        if (element.value(QLatin1String("part")).toInt() == 0) {
            flush();
            pending = element;
            pendingKey = key;
            continue;
        }
        for (auto it = element.begin(); it != element.end(); ++it) {
            if (!it->isArray())
                continue;
            QJsonArray joined = pending.value(it.key()).toArray();
            for (const QJsonValue &part : it->toArray())
                joined.append(part);
            pending.insert(it.key(), joined);
        }
        if (element.value(QLatin1String("part")).toInt() + 1 == element.value(QLatin1String("parts")).toInt())
            flush();
    }
    flush();
    for (auto it = lists.begin(); it != lists.end(); ++it)
        result.insert(it.value(), rebuilt.value(it.value()));
    return result;
}

} // namespace mm::remote
