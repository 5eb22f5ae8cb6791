#include "sandbox/demotraffic.h"

#include "sandbox/imapsession.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QThread>

#include <algorithm>
#include <latch>
#include <thread>
#include <vector>

#include <unistd.h>

namespace mm::sandbox {

namespace {

constexpr int kImapTimeoutMs = 15000;
constexpr int kReplicationTimeoutMs = 30000;
const QByteArray kInbox = QByteArrayLiteral("INBOX");

std::string str(const QString &text)
{
    return text.toStdString();
}

QByteArray messageText(const QByteArray &messageId, int round, const QString &nodeId)
{
    const QByteArray date = QDateTime::currentDateTimeUtc().toString(Qt::RFC2822Date).toLatin1();
    return "From: Demo traffic <traffic@mailmesh.demo>\n"
           "To: test@sandbox.test\n"
           "Subject: Demo delivery " + QByteArray::number(round) + " to " + nodeId.toUtf8() + "\n"
           "Message-ID: " + messageId + "\n"
           "Date: " + date + "\n"
           "\n"
           "A message delivered by the demo's traffic, read on one node while the others open the inbox.\n";
}

// The inbox's layout as Dovecot will find it: cur/-only when new is the link to cur.
bool isCurOnly(const QString &maildir)
{
    return QFileInfo(maildir + QStringLiteral("/new")).isSymLink();
}

} // namespace

DemoTraffic::DemoTraffic(QList<Node> nodes, SandboxUser user)
    : m_nodes(std::move(nodes))
    , m_user(std::move(user))
    , m_runToken(QByteArray::number(QRandomGenerator::global()->generate(), 36))
{
}

Result<DemoTraffic> DemoTraffic::fromDescription(const QJsonObject &description)
{
    QList<Node> nodes;
    for (const QJsonValue &value : description.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject node = value.toObject();
        const QJsonObject imap = node.value(QStringLiteral("imap")).toObject();
        nodes << Node{node.value(QStringLiteral("id")).toString(), node.value(QStringLiteral("maildir")).toString(),
                      quint16(imap.value(QStringLiteral("port")).toInt()), imap.value(QStringLiteral("user")).toString(),
                      imap.value(QStringLiteral("password")).toString()};
        if (nodes.constLast().maildir.isEmpty() || nodes.constLast().imapPort == 0)
            return fail(ErrorCode::InvalidData, "the sandbox description lacks a node's Maildir or IMAP port");
    }
    if (nodes.size() < 2)
        return fail(ErrorCode::InvalidData, "traffic needs at least two sandbox nodes");
    // The files it delivers must belong to the mail user, like the sandbox's own.
    Result<SandboxUser> user = ::geteuid() == 0 ? SandboxUser::ensure() : SandboxUser::current();
    if (!user)
        return fail(user.error());
    return DemoTraffic(std::move(nodes), std::move(*user));
}

Status DemoTraffic::runRound()
{
    if (m_figures.rounds == 0)
        if (Status opened = openInboxesOneByOne(); !opened)
            return opened;
    const int round = ++m_figures.rounds;
    const int deliveryIndex = int((round - 1) % m_nodes.size());
    const Node &target = m_nodes[deliveryIndex];
    const QByteArray messageId = "<demo-traffic-" + m_runToken + '-' + QByteArray::number(round) + "@mailmesh.demo>";
    const bool curOnly = isCurOnly(target.maildir);
    Result<QString> fileName = deliver(target, messageId);
    if (!fileName)
        return fail(fileName.error());
    m_deliveredCurOnly.insert(messageId, curOnly);
    (curOnly ? m_figures.curOnly : m_figures.classic).delivered += 1;
    if (Status arrived = waitUntilEverywhere(*fileName, kReplicationTimeoutMs); !arrived)
        return arrived;
    return race(int((deliveryIndex + 1) % m_nodes.size()), messageId);
}

// Each node's Dovecot takes the inbox's UIDVALIDITY from the clock when it first opens it, and
// with per-node UIDs nothing else tells the nodes' numberings apart. Opened on every node in the
// same second, as the first race would, the inbox would get one UIDVALIDITY and three numberings,
// which the cross-node check rightly reports as UID conflicts: a hazard of its own, not what the
// traffic is here to show. So each node opens it first in a second of its own.
Status DemoTraffic::openInboxesOneByOne()
{
    for (qsizetype i = 0; i < m_nodes.size(); ++i) {
        const Node &node = m_nodes[i];
        Result<ImapSession> session = ImapSession::login(node.imapPort, node.imapUser, node.imapPassword, kImapTimeoutMs);
        if (!session)
            return fail(session.error().code, node.id.toStdString() + ": " + session.error().message);
        if (Status selected = session->select(kInbox); !selected)
            return fail(selected.error().code, node.id.toStdString() + ": " + selected.error().message);
        session->logout();
        if (i + 1 < m_nodes.size())
            QThread::msleep(1100);
    }
    return {};
}

Result<QString> DemoTraffic::deliver(const Node &node, const QByteArray &messageId)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QString name = QStringLiteral("%1.M%2P%3Q%4.demo-traffic")
                             .arg(now / 1000)
                             .arg((now % 1000) * 1000)
                             .arg(::getpid())
                             .arg(m_figures.rounds);
    const QString temporary = node.maildir + QStringLiteral("/tmp/") + name;
    QFile file(temporary);
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly))
        return fail(ErrorCode::IoError, "cannot write " + str(temporary) + ": " + str(file.errorString()));
    const QByteArray text = messageText(messageId, m_figures.rounds, node.id);
    if (file.write(text) != text.size() || !file.flush()) {
        file.remove();
        return fail(ErrorCode::IoError, "cannot write " + str(temporary));
    }
    file.close();
    if (Status owned = m_user.own(temporary); !owned)
        return fail(owned.error());
    // Through the link new -> cur when the folder is cur/-only, as an MTA's delivery would.
    const QString delivered = node.maildir + QStringLiteral("/new/") + name;
    if (::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(delivered).constData()) != 0)
        return fail(ErrorCode::IoError, "cannot move the delivery into " + str(delivered));
    return name;
}

Status DemoTraffic::waitUntilEverywhere(const QString &fileName, int timeoutMs) const
{
    const QDeadlineTimer deadline(timeoutMs);
    for (const Node &node : m_nodes) {
        for (;;) {
            // In new/ as delivered, or already in cur/ with flags after it.
            if (QFile::exists(node.maildir + QStringLiteral("/new/") + fileName)
                || !QDir(node.maildir + QStringLiteral("/cur")).entryList({fileName + u'*'}, QDir::Files).isEmpty())
                break;
            if (m_stopRequested && m_stopRequested())
                return fail(ErrorCode::Cancelled, "stopped while waiting for Syncthing");
            if (deadline.hasExpired())
                return fail(ErrorCode::Timeout, "the delivery " + str(fileName) + " did not reach " + str(node.id));
            QThread::msleep(100);
        }
    }
    return {};
}

Status DemoTraffic::race(int readerIndex, const QByteArray &messageId)
{
    // Logged in first, so that the selects themselves happen at one moment.
    std::vector<ImapSession> sessions;
    for (const Node &node : m_nodes) {
        Result<ImapSession> session = ImapSession::login(node.imapPort, node.imapUser, node.imapPassword, kImapTimeoutMs);
        if (!session)
            return fail(session.error().code, node.id.toStdString() + ": " + session.error().message);
        sessions.push_back(std::move(*session));
    }
    std::vector<Status> outcomes(sessions.size());
    std::latch start(std::ptrdiff_t(sessions.size()));
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
        clients.emplace_back([&, i] {
            ImapSession &session = sessions[i];
            start.arrive_and_wait();
            outcomes[i] = session.select(kInbox);
            if (outcomes[i] && int(i) == readerIndex) {
                Result<QList<quint32>> uids = session.searchMessageId(messageId);
                if (!uids)
                    outcomes[i] = fail(uids.error());
                for (quint32 uid : uids ? *uids : QList<quint32>{})
                    if (outcomes[i])
                        outcomes[i] = session.addFlags(uid, QByteArrayLiteral("\\Seen"));
            }
            session.logout();
        });
    }
    for (std::thread &client : clients)
        client.join();
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        if (!outcomes[i])
            return fail(outcomes[i].error().code, m_nodes[qsizetype(i)].id.toStdString() + ": " + outcomes[i].error().message);
    return {};
}

Status DemoTraffic::countDuplicates()
{
    // The most copies of each message any one node shows.
    QHash<QByteArray, int> copies;
    for (const Node &node : m_nodes) {
        Result<ImapSession> session = ImapSession::login(node.imapPort, node.imapUser, node.imapPassword, kImapTimeoutMs);
        if (!session)
            return fail(session.error().code, node.id.toStdString() + ": " + session.error().message);
        if (Status selected = session->select(kInbox); !selected)
            return fail(selected.error().code, node.id.toStdString() + ": " + selected.error().message);
        Result<QList<ImapSession::MessageId>> messages = session->messageIds();
        session->logout();
        if (!messages)
            return fail(messages.error().code, node.id.toStdString() + ": " + messages.error().message);
        QHash<QByteArray, int> onThisNode;
        for (const ImapSession::MessageId &message : *messages)
            if (m_deliveredCurOnly.contains(message.messageId))
                onThisNode[message.messageId] += 1;
        for (auto it = onThisNode.cbegin(); it != onThisNode.cend(); ++it)
            copies[it.key()] = std::max(copies.value(it.key()), it.value());
    }
    m_figures.classic.duplicates = 0;
    m_figures.curOnly.duplicates = 0;
    for (auto it = copies.cbegin(); it != copies.cend(); ++it)
        if (it.value() > 1)
            (m_deliveredCurOnly.value(it.key()) ? m_figures.curOnly : m_figures.classic).duplicates += it.value() - 1;
    return {};
}

} // namespace mm::sandbox
