#pragma once

#include "common/result.h"
#include "remote/sshcommand.h"

#include <QJsonObject>
#include <QStringList>

#include <functional>

class QObject;

namespace mm::remote {
class AgentCall;
class SshSession;
} // namespace mm::remote

namespace mm::cluster {

// The agent's answer to one call, handed to `done` in `context` from the event loop; the call
// deletes itself.
void whenAgentFinished(remote::AgentCall *call, QObject *context,
                       std::function<void(const Result<QJsonObject> &)> done);

// Runs argv on the node and hands over its output. A non-zero exit status becomes an IoError
// naming the command and quoting its stderr, so callers only handle one kind of failure.
void runNodeCommand(remote::SshSession *session, const QStringList &argv, remote::SshCommand::Options options,
                    QObject *context, std::function<void(const Result<remote::SshCommand::Output> &)> done);

// Runs several argv lists one after the other, stopping at the first failure.
void runNodeCommands(remote::SshSession *session, const QList<QStringList> &commands,
                     const remote::SshCommand::Options &options, QObject *context,
                     std::function<void(const Status &)> done);

// For a node's system configuration (Dovecot's conf.d, its reload): runs argv as the login user,
// and once more as root (sudo -n) when that fails for a login user other than root. Debian's
// /etc/dovecot and `doveadm reload` are root's; a sandbox node's are its login user's.
void runAdminCommand(remote::SshSession *session, const QStringList &argv, const remote::SshCommand::Options &options,
                     QObject *context, std::function<void(const Result<remote::SshCommand::Output> &)> done);
void runAdminCommands(remote::SshSession *session, const QList<QStringList> &commands,
                      const remote::SshCommand::Options &options, QObject *context,
                      std::function<void(const Status &)> done);

// One asynchronous step: does its work, then calls `next` with the outcome.
using AsyncStep = std::function<void(std::function<void(const Status &)> next)>;

// Runs the steps one after the other, stopping at the first failure.
void runInOrder(QList<AsyncStep> steps, std::function<void(const Status &)> done);

} // namespace mm::cluster
