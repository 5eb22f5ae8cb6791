#pragma once

#include "common/result.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

namespace mm::remote {

class AgentClient;

// One request to the node's agent: progress and items as they stream, then exactly one
// finished(). Made by AgentClient::call(); the caller deletes it (deleteLater) after finished().
// cancel() sends the protocol's cancel message; the agent still ends the request with its final
// frame (normally the problem "cancelled").
class AgentCall : public QObject
{
    Q_OBJECT

public:
    const QString &id() const { return m_id; }
    const QString &command() const { return m_command; }
    bool isFinished() const { return m_finished; }
    // The command's result document; valid after finished().
    const Result<QJsonObject> &result() const { return m_result; }
    void cancel();

    // A result whose long lists the agent streamed as items ("streamed" in the result, see
    // protocol.md "Large answers") put back together: each list rebuilt from its items in
    // order, the parts of an element too large for one frame joined. Other results come back
    // unchanged. `items` are the item documents as they arrived.
    static QJsonObject assembleStreamed(QJsonObject result, const QList<QJsonObject> &items);

Q_SIGNALS:
    // total 0: not known yet. etaSeconds -1: no estimate.
    void progress(qint64 done, qint64 total, const QString &current, int etaSeconds);
    void item(const QJsonObject &item);
    void finished();

private:
    friend class AgentClient;
    AgentCall(AgentClient *client, QString id, QString command, QObject *parent);
    void finish(Result<QJsonObject> result);

    AgentClient *m_client;
    QString m_id;
    QString m_command;
    bool m_finished = false;
    bool m_cancelSent = false;
    Result<QJsonObject> m_result;
};

} // namespace mm::remote
