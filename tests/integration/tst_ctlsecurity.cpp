// Issue #20 through the real mailmeshctl, on one sandbox node (sshd, syncthing, stock Dovecot):
// a shared cluster file cannot make ssh run a command on the admin's machine (refused on load,
// exit 2, before any ssh runs), and the host key pinned by add-node is the key the node offers,
// whatever known_hosts file already trusts it.

#include "ctlrunner.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace mm;

namespace {

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(path.section(u'/', 0, -2));
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

QJsonObject clusterNode(const QString &clusterFile, const QString &id)
{
    const QJsonObject cluster = QJsonDocument::fromJson(readAll(clusterFile)).object();
    for (const QJsonValue &node : cluster.value(QStringLiteral("nodes")).toArray())
        if (node.toObject().value(QStringLiteral("id")).toString() == id)
            return node.toObject();
    return {};
}

} // namespace

class TestCtlSecurity : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        sandbox::SandboxOptions options;
        options.nodeCount = 1;
        m_sandbox = std::make_unique<sandbox::Sandbox>(options);
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
    }

    void cleanupTestCase() { m_sandbox.reset(); }

    // The trigger of issue #20: every command that reads the file refuses it, naming the field
    // and the option, and the ProxyCommand never runs.
    void aClusterFileCannotRunCommands()
    {
        const QString marker = m_home.filePath(QStringLiteral("proxy-command-ran"));
        const sandbox::NodeInfo node = m_sandbox->node(0);
        const QJsonObject hostile{
            {QStringLiteral("schemaVersion"), 2},
            {QStringLiteral("name"), QStringLiteral("shared in git")},
            {QStringLiteral("nodes"),
             QJsonArray{QJsonObject{
                 {QStringLiteral("id"), QStringLiteral("mx1")},
                 {QStringLiteral("ssh"), QStringLiteral("ssh://%1@127.0.0.1:%2").arg(node.sshUser).arg(node.sshPort)},
                 {QStringLiteral("mailRoot"), node.mailRoot},
                 {QStringLiteral("sshOptions"),
                  QJsonArray{QStringLiteral("IdentityFile=") + node.sshIdentityFile,
                             QStringLiteral("ProxyCommand=sh -c 'touch %1; nc 127.0.0.1 %2'")
                                 .arg(marker)
                                 .arg(node.sshPort)}}}}}};
        const QString clusterFile = m_home.filePath(QStringLiteral("hostile.json"));
        QVERIFY(writeFile(clusterFile, QJsonDocument(hostile).toJson()));
        const QList<QStringList> commands{{QStringLiteral("status"), QStringLiteral("--check")},
                                          {QStringLiteral("status")},
                                          {QStringLiteral("dupes")},
                                          {QStringLiteral("prepare"), QStringLiteral("mx1")},
                                          {QStringLiteral("quarantine"), QStringLiteral("list")}};
        for (const QStringList &command : commands) {
            const CtlRun run = runMailmeshctl(m_home.path(), clusterFile, command);
            QVERIFY2(run.exitCode == 2, qPrintable(command.join(u' ') + QStringLiteral(": ") + QString::fromUtf8(failureOf(run))));
            QVERIFY2(run.output.contains("nodes[0].sshOptions[1]"), run.output.constData());
            QVERIFY2(run.output.contains("ProxyCommand"), run.output.constData());
            QVERIFY2(!QFile::exists(marker), qPrintable(command.join(u' ')));
        }
        const CtlRun check = runMailmeshctl(m_home.path(), clusterFile, {QStringLiteral("status"), QStringLiteral("--check")});
        QVERIFY2(check.output.startsWith("MAILMESH CRITICAL - cluster file refused"), check.output.constData());
    }

    // add-node with the node already in ~/.ssh/known_hosts: a wrong --accept-host-key is refused
    // with both fingerprints and nothing recorded; without it, the key ssh used is pinned.
    void addNodePinsTheOfferedKey()
    {
        const sandbox::NodeInfo node = m_sandbox->node(0);
        const QString home = m_home.filePath(QStringLiteral("admin"));
        QVERIFY(writeFile(home + QStringLiteral("/.ssh/known_hosts"), readAll(m_sandbox->knownHostsFile())));
        const QString clusterFile = home + QStringLiteral("/cluster.json");
        CtlRun run = runMailmeshctl(home, clusterFile, {QStringLiteral("init"), QStringLiteral("pins")});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());

        const QString wrong = QStringLiteral("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        run = runMailmeshctl(home, clusterFile,
                             sandboxAddNodeArguments(node) << QStringLiteral("--accept-host-key") << wrong);
        QVERIFY2(run.exitCode == 4, failureOf(run).constData());
        const QString message = run.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
        QVERIFY2(message.contains(wrong) && message.contains(node.sshHostKeyFingerprint), qPrintable(message));
        QVERIFY(clusterNode(clusterFile, node.id).isEmpty());
        // Nothing was written to Mailmesh's own known_hosts either.
        QVERIFY(!readAll(home + QStringLiteral("/.config/mailmesh/known_hosts")).contains("[127.0.0.1]"));

        run = runMailmeshctl(home, clusterFile, sandboxAddNodeArguments(node));
        QVERIFY2(run.exitCode == 0 || run.exitCode == 1, failureOf(run).constData());
        QCOMPARE(clusterNode(clusterFile, node.id).value(QStringLiteral("hostKey")).toString(),
                 node.sshHostKeyFingerprint);

        // A cluster file that pins another key is refused on connect, with both fingerprints,
        // though ~/.ssh/known_hosts trusts the node.
        QJsonObject cluster = QJsonDocument::fromJson(readAll(clusterFile)).object();
        QJsonArray nodes = cluster.value(QStringLiteral("nodes")).toArray();
        QJsonObject pinned = nodes.first().toObject();
        pinned.insert(QStringLiteral("hostKey"), wrong);
        nodes[0] = pinned;
        cluster.insert(QStringLiteral("nodes"), nodes);
        QVERIFY(writeFile(clusterFile, QJsonDocument(cluster).toJson()));
        run = runMailmeshctl(home, clusterFile, {QStringLiteral("prepare"), node.id, QStringLiteral("--dry-run")});
        QVERIFY2(run.exitCode == 4, failureOf(run).constData());
        QVERIFY2(run.output.contains(wrong.toUtf8()) && run.output.contains(node.sshHostKeyFingerprint.toUtf8()),
                 run.output.constData());
    }

    // Issue #25: a reinstalled node offers a new host key. `rekey` shows both fingerprints and
    // changes nothing; the pin is replaced only for the key the admin confirms, and only while
    // the node still offers it: a key that changed again, or a wrong one, is refused.
    void rekeyReplacesThePinOnlyForTheConfirmedKey()
    {
        const QString home = m_home.filePath(QStringLiteral("rekey"));
        const QString clusterFile = home + QStringLiteral("/cluster.json");
        CtlRun run = runMailmeshctl(home, clusterFile, {QStringLiteral("init"), QStringLiteral("rekeying")});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        const QString original = m_sandbox->node(0).sshHostKeyFingerprint;
        run = runMailmeshctl(home, clusterFile,
                             sandboxAddNodeArguments(m_sandbox->node(0)) << QStringLiteral("--accept-host-key") << original);
        QVERIFY2(run.exitCode == 0 || run.exitCode == 1, failureOf(run).constData());
        const QString id = m_sandbox->node(0).id;
        const auto pinned = [&] { return clusterNode(clusterFile, id).value(QStringLiteral("hostKey")).toString(); };
        const auto details = [](const CtlRun &r) { return r.report.value(QStringLiteral("details")).toObject(); };

        run = runMailmeshctl(home, clusterFile, {QStringLiteral("rekey"), id});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QCOMPARE(details(run).value(QStringLiteral("keyChanged")).toBool(true), false);

        QVERIFY(m_sandbox->restartSshdWithNewHostKey(0));
        const QString reinstalled = m_sandbox->node(0).sshHostKeyFingerprint;
        QVERIFY(reinstalled != original);
        // Looking shows both and changes nothing.
        run = runMailmeshctl(home, clusterFile, {QStringLiteral("rekey"), id});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QCOMPARE(details(run).value(QStringLiteral("pinnedHostKey")).toString(), original);
        QCOMPARE(details(run).value(QStringLiteral("offeredHostKey")).toString(), reinstalled);
        QCOMPARE(pinned(), original);
        const QByteArray text = runMailmeshctlForPeople(home, clusterFile, {QStringLiteral("rekey"), id});
        QVERIFY2(text.contains(original.toUtf8()) && text.contains(reinstalled.toUtf8()) && text.contains("ssh-keygen -lf")
                     && text.contains("--accept-host-key " + reinstalled.toUtf8()),
                 text.constData());

        // A key the node does not offer is refused, and so is one that changed again since.
        const QString wrong = QStringLiteral("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        run = runMailmeshctl(home, clusterFile, {QStringLiteral("rekey"), id, QStringLiteral("--accept-host-key"), wrong});
        QVERIFY2(run.exitCode != 0, "a key the node does not offer was accepted");
        QCOMPARE(pinned(), original);
        QVERIFY(m_sandbox->restartSshdWithNewHostKey(0));
        const QString again = m_sandbox->node(0).sshHostKeyFingerprint;
        run = runMailmeshctl(home, clusterFile,
                             {QStringLiteral("rekey"), id, QStringLiteral("--accept-host-key"), reinstalled});
        QVERIFY2(run.exitCode != 0, "a key that changed again was accepted");
        const QString message = run.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
        QVERIFY2(message.contains(again) && message.contains(reinstalled), qPrintable(message));
        QCOMPARE(pinned(), original);

        // The confirmed key that the node offers is pinned, and commands connect with it.
        run = runMailmeshctl(home, clusterFile, {QStringLiteral("rekey"), id, QStringLiteral("--accept-host-key"), again});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QCOMPARE(pinned(), again);
        run = runMailmeshctl(home, clusterFile, {QStringLiteral("prepare"), id, QStringLiteral("--dry-run")});
        QVERIFY2(run.exitCode == 0 || run.exitCode == 1, failureOf(run).constData());
    }
};

QTEST_GUILESS_MAIN(TestCtlSecurity)
#include "tst_ctlsecurity.moc"
