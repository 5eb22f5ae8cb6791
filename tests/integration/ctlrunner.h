#pragma once

// Running the real mailmeshctl against sandbox nodes, for the end-to-end tests: an isolated
// HOME (Mailmesh's known_hosts and settings), JSON output, and the closing report picked out.

#include "sandbox/nodeinfo.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QProcess>
#include <QStringList>

struct CtlRun
{
    int exitCode = -1;  // -1: crashed or timed out
    QJsonObject report; // the last JSON line of type "report"
    QByteArray output;  // stdout and stderr
};

// Starts mailmeshctl with its JSON output; for a test that watches the nodes while it runs.
inline void startMailmeshctl(QProcess &process, const QString &home, const QString &clusterFile,
                             const QStringList &arguments, const QList<QPair<QString, QString>> &extraEnvironment = {})
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("HOME"), home);
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/.config"));
    environment.insert(QStringLiteral("MAILMESH_AGENT"), QStringLiteral(MAILMESH_AGENT_BINARY));
    for (const auto &[name, value] : extraEnvironment)
        environment.insert(name, value);
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(MAILMESHCTL_BINARY),
                  QStringList{QStringLiteral("--cluster"), clusterFile, QStringLiteral("--json")} + arguments);
}

// Waits for a process started by startMailmeshctl and picks out its report.
inline CtlRun finishMailmeshctl(QProcess &process)
{
    CtlRun run;
    // waitForFinished() is false for a process that has already finished: ask only if it runs.
    if (process.state() != QProcess::NotRunning && !process.waitForFinished(600000)) {
        process.kill();
        process.waitForFinished();
    } else {
        run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    }
    run.output = process.readAllStandardOutput() + process.readAllStandardError();
    for (const QByteArray &line : run.output.split('\n')) {
        const QJsonObject object = QJsonDocument::fromJson(line).object();
        if (object.value(QStringLiteral("type")).toString() == QLatin1String("report"))
            run.report = object;
    }
    return run;
}

// What people read: the same run without --json (no report is picked out), stdout and stderr.
inline QByteArray runMailmeshctlForPeople(const QString &home, const QString &clusterFile, const QStringList &arguments)
{
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("HOME"), home);
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/.config"));
    environment.insert(QStringLiteral("MAILMESH_AGENT"), QStringLiteral(MAILMESH_AGENT_BINARY));
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(MAILMESHCTL_BINARY), QStringList{QStringLiteral("--cluster"), clusterFile} + arguments);
    if (!process.waitForFinished(600000))
        process.kill();
    return process.readAllStandardOutput() + process.readAllStandardError();
}

inline CtlRun runMailmeshctl(const QString &home, const QString &clusterFile, const QStringList &arguments,
                             const QList<QPair<QString, QString>> &extraEnvironment = {})
{
    QProcess process;
    startMailmeshctl(process, home, clusterFile, arguments, extraEnvironment);
    return finishMailmeshctl(process);
}

// What a failed run said, short enough for a QVERIFY2 message: the report's error and next
// action, then the end of the output.
inline QByteArray failureOf(const CtlRun &run)
{
    const QJsonObject error = run.report.value(QStringLiteral("error")).toObject();
    QByteArray text = "exit " + QByteArray::number(run.exitCode) + ": "
                      + error.value(QStringLiteral("message")).toString().toUtf8();
    const QString next = run.report.value(QStringLiteral("nextAction")).toString();
    if (!next.isEmpty())
        text += "\nnext: " + next.toUtf8();
    return text + "\n...\n" + run.output.right(600);
}

// `add-node` for a sandbox node: its ssh address and identity, Syncthing, state dir and Dovecot.
inline QStringList sandboxAddNodeArguments(const mm::sandbox::NodeInfo &node)
{
    return {QStringLiteral("add-node"), node.id,
            QStringLiteral("--ssh"), QStringLiteral("ssh://%1@127.0.0.1:%2").arg(node.sshUser).arg(node.sshPort),
            QStringLiteral("--mail-root"), node.mailRoot,
            QStringLiteral("--ssh-option"), QStringLiteral("IdentityFile=") + node.sshIdentityFile,
            QStringLiteral("--ssh-option"), QStringLiteral("IdentitiesOnly=yes"),
            QStringLiteral("--syncthing-home"), node.syncthingHome,
            QStringLiteral("--syncthing-gui"), node.syncthingGuiAddress(),
            QStringLiteral("--sync-address"), node.syncthingSyncAddress(),
            QStringLiteral("--state-dir"), node.stateDir,
            QStringLiteral("--dovecot-prefix"), node.dovecotPrefix,
            QStringLiteral("--dovecot-config"), node.dovecotConfigFile};
}
