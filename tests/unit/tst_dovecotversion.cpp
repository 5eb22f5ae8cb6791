// DovecotVersion::parse: the sandbox chooses the configuration syntax from it, so a 2.3 that
// looks like 2.4 (or the reverse) would start no Dovecot at all.

#include "sandbox/dovecotversion.h"

#include <QtTest>

using mm::sandbox::DovecotVersion;

class TestDovecotVersion : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void rejectsWhatIsNoVersion_data();
    void rejectsWhatIsNoVersion();
};

void TestDovecotVersion::parse_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("release");
    QTest::addColumn<bool>("versionedConfig");
    QTest::newRow("Debian 12 stock") << QByteArray("2.3.19.1 (9f4e1a0f5)\n")
                                     << QStringLiteral("2.3") << QStringLiteral("2.3.19") << false;
    QTest::newRow("2.3 patched") << QByteArray("2.3.19.1+mailmesh1 (9f4e1a0f5)\n")
                                 << QStringLiteral("2.3") << QStringLiteral("2.3.19") << false;
    QTest::newRow("2.4 patched") << QByteArray("2.4.1+mailmesh1 (7e3b3e2a3b)\n")
                                 << QStringLiteral("2.4") << QStringLiteral("2.4.1") << true;
    QTest::newRow("2.4 Debian revision")
        << QByteArray("2.4.1-4 (7e3b3e2a3b)") << QStringLiteral("2.4") << QStringLiteral("2.4.1")
        << true;
    QTest::newRow("two components")
        << QByteArray("2.4 (x)") << QStringLiteral("2.4") << QStringLiteral("2.4.0") << true;
}

void TestDovecotVersion::parse()
{
    QFETCH(QByteArray, output);
    QFETCH(QString, line);
    QFETCH(QString, release);
    QFETCH(bool, versionedConfig);
    const auto version = DovecotVersion::parse(output);
    QVERIFY(version);
    QCOMPARE(version->line(), line);
    QCOMPARE(version->release(), release);
    QCOMPARE(version->hasVersionedConfig(), versionedConfig);
}

void TestDovecotVersion::rejectsWhatIsNoVersion_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("an error message") << QByteArray("doveconf: Fatal: Error in configuration");
    QTest::newRow("major only") << QByteArray("2 (x)");
}

void TestDovecotVersion::rejectsWhatIsNoVersion()
{
    QFETCH(QByteArray, output);
    QVERIFY(!DovecotVersion::parse(output));
}

QTEST_GUILESS_MAIN(TestDovecotVersion)
#include "tst_dovecotversion.moc"
