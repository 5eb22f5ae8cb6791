#include "cluster/session/remotecalls.h"

#include "remote/agentcall.h"
#include "remote/sshsession.h"

#include <QObject>
#include <QTimer>

#include <memory>

namespace mm::cluster {

void whenAgentFinished(remote::AgentCall *call, QObject *context,
                       std::function<void(const Result<QJsonObject> &)> done)
{
    // The answer reaches `done` from the event loop, not from inside the agent client's frame
    // handler: a step that ends on it may close the session, and with it the client that is
    // still unwinding that handler.
    // Long lists the agent streamed as items are put back into the result, so a caller sees one
    // document whatever its size. Only single-key items are kept: those are the parts of a
    // streamed list; a manifest's own items are not.
    auto items = std::make_shared<QList<QJsonObject>>();
    QObject::connect(call, &remote::AgentCall::item, context, [items](const QJsonObject &item) {
        if (item.size() == 1)
            items->append(item);
    });
    QObject::connect(call, &remote::AgentCall::finished, context, [call, context, items, done = std::move(done)] {
        Result<QJsonObject> result = call->result();
        if (result)
            result = remote::AgentCall::assembleStreamed(std::move(*result), *items);
        items->clear();
        QTimer::singleShot(0, context, [done, result = std::move(result)] { done(result); });
        call->deleteLater();
    });
}

void runNodeCommand(remote::SshSession *session, const QStringList &argv, remote::SshCommand::Options options,
                    QObject *context, std::function<void(const Result<remote::SshCommand::Output> &)> done)
{
    remote::SshCommand *command = session->run(argv, std::move(options));
    QObject::connect(command, &remote::SshCommand::finished, context, [command, argv, done = std::move(done)] {
        Result<remote::SshCommand::Output> result = command->result();
        command->deleteLater();
        if (result && result->exitCode != 0) {
            const QString stderrText = QString::fromUtf8(result->standardError).trimmed();
            done(fail(ErrorCode::IoError, QStringLiteral("`%1` exited with status %2%3")
                                              .arg(argv.join(u' '))
                                              .arg(result->exitCode)
                                              .arg(stderrText.isEmpty() ? QString() : QStringLiteral(": ") + stderrText)
                                              .toStdString()));
            return;
        }
        done(result);
    });
}

void runNodeCommands(remote::SshSession *session, const QList<QStringList> &commands,
                     const remote::SshCommand::Options &options, QObject *context,
                     std::function<void(const Status &)> done)
{
    if (commands.isEmpty()) {
        done({});
        return;
    }
    runNodeCommand(session, commands.first(), options, context,
                   [session, rest = commands.mid(1), options, context, done = std::move(done)](
                       const Result<remote::SshCommand::Output> &result) {
                       if (!result) {
                           done(fail(result.error()));
                           return;
                       }
                       runNodeCommands(session, rest, options, context, done);
                   });
}

void runAdminCommand(remote::SshSession *session, const QStringList &argv, const remote::SshCommand::Options &options,
                     QObject *context, std::function<void(const Result<remote::SshCommand::Output> &)> done)
{
    runNodeCommand(session, argv, options, context,
                   [session, argv, options, context, done = std::move(done)](const Result<remote::SshCommand::Output> &result) {
                       if (result || !options.runAs.isEmpty() || session->loginUser() == QLatin1String("root")
                           || result.error().code != ErrorCode::IoError) {
                           done(result);
                           return;
                       }
                       remote::SshCommand::Options asRoot = options;
                       asRoot.runAs = QStringLiteral("root");
                       runNodeCommand(session, argv, asRoot, context,
                                      [first = result.error(), done](const Result<remote::SshCommand::Output> &again) {
                                          if (again) {
                                              done(again);
                                              return;
                                          }
                                          Error both = first;
                                          both.message += "; as root: " + again.error().message;
                                          done(fail(both));
                                      });
                   });
}

void runAdminCommands(remote::SshSession *session, const QList<QStringList> &commands,
                      const remote::SshCommand::Options &options, QObject *context,
                      std::function<void(const Status &)> done)
{
    if (commands.isEmpty()) {
        done({});
        return;
    }
    runAdminCommand(session, commands.first(), options, context,
                    [session, rest = commands.mid(1), options, context, done = std::move(done)](
                        const Result<remote::SshCommand::Output> &result) {
                        if (!result) {
                            done(fail(result.error()));
                            return;
                        }
                        runAdminCommands(session, rest, options, context, done);
                    });
}

void runInOrder(QList<AsyncStep> steps, std::function<void(const Status &)> done)
{
    if (steps.isEmpty()) {
        done({});
        return;
    }
    const AsyncStep first = steps.takeFirst();
    first([steps, done](const Status &outcome) {
        if (!outcome) {
            done(outcome);
            return;
        }
        runInOrder(steps, done);
    });
}

} // namespace mm::cluster
