// `mailmeshctl lab up/add/down`: a persistent lab outlives the command that made it, takes one
// more node later (a fresh server to join), and `lab down` leaves nothing behind. Exits 77
// (skipped) where lab nodes cannot run (labhost::whyLabCannotRun).

#include "lab/labhost.h"
#include "lab/labresidue.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

using namespace Qt::StringLiterals;

class TestLabCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void upAddDown()
    {
        QTemporaryDir parent(u"/var/tmp/mailmesh-labcli-XXXXXX"_s);
        QVERIFY(parent.isValid());
        const QString dir = parent.filePath(u"lab"_s);
        const QJsonObject up = ctl({u"up"_s, u"1"_s, u"--login"_s, u"sudo"_s, u"--dir"_s, dir});
        QCOMPARE(up.value(u"nodes"_s).toArray().size(), 1);
        QCOMPARE(up.value(u"nodes"_s).toArray().first()[u"ssh"_s][u"user"_s].toString(),
                 u"admin"_s);
        const QString tag = QFileInfo(up.value(u"network"_s)[u"adminNamespace"_s].toString())
                                .fileName()
                                .section(u'-', 1, 1);
        QVERIFY(!tag.isEmpty());

        // A second lab in the same directory is refused while this one is up.
        QProcess again;
        again.start(QStringLiteral(MAILMESHCTL_BINARY),
                    {u"lab"_s, u"up"_s, u"1"_s, u"--dir"_s, dir});
        QVERIFY(again.waitForFinished(120'000));
        QCOMPARE(again.exitCode(), 3);

        const QJsonObject added = ctl({u"add"_s, u"--dir"_s, dir});
        const QJsonArray nodes = added.value(u"nodes"_s).toArray();
        QCOMPARE(nodes.size(), 2);
        QCOMPARE(nodes[1][u"address"_s].toString(), u"10.42.21.12"_s);
        QCOMPARE(nodes[1][u"ssh"_s][u"user"_s].toString(), u"admin"_s); // as the lab was made
        QVERIFY(nodes[1][u"ssh"_s][u"hostKeyFingerprint"_s].toString() !=
                nodes[0][u"ssh"_s][u"hostKeyFingerprint"_s].toString());

        QProcess down;
        down.start(QStringLiteral(MAILMESHCTL_BINARY), {u"lab"_s, u"down"_s, u"--dir"_s, dir});
        QVERIFY(down.waitForFinished(120'000));
        QVERIFY2(down.exitCode() == 0, down.readAllStandardError().constData());
        for (const mm::lab::LabResidue &residue : mm::lab::LabResidue::onThisMachine())
            QVERIFY2(residue.tag != tag || residue.isEmpty(), qPrintable(residue.describe()));
        QVERIFY(!QFileInfo::exists(dir));
    }

private:
    QJsonObject ctl(const QStringList &arguments)
    {
        QProcess process;
        process.start(QStringLiteral(MAILMESHCTL_BINARY), QStringList{u"lab"_s} + arguments);
        if (!process.waitForFinished(600'000) || process.exitCode() != 0) {
            qWarning("lab %s: %s", qPrintable(arguments.join(u' ')),
                     process.readAllStandardError().constData());
            return {};
        }
        return QJsonDocument::fromJson(process.readAllStandardOutput()).object();
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (const QString why = mm::lab::labhost::whyLabCannotRun(); !why.isEmpty()) {
        std::fprintf(stderr, "SKIP: %s\n", qPrintable(why));
        return 77;
    }
    TestLabCli test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_labcli.moc"
