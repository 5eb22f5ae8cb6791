#include "remote/sshaddress.h"

#include <QTest>

using mm::remote::SshAddress;

class TestSshAddress : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesValidAddresses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("roundTrip");

        QTest::newRow("alias") << "mail1" << "" << "mail1" << 0 << "mail1";
        QTest::newRow("url host") << "ssh://mail1.example.org" << "" << "mail1.example.org" << 0
                                  << "mail1.example.org";
        QTest::newRow("user and port") << "ssh://root@10.0.0.1:2222" << "root" << "10.0.0.1" << 2222
                                       << "ssh://root@10.0.0.1:2222";
        QTest::newRow("ipv6") << "ssh://admin@[2001:db8::1]:22" << "admin" << "2001:db8::1" << 22
                              << "ssh://admin@[2001:db8::1]:22";
        QTest::newRow("ipv6 no port") << "ssh://[::1]" << "" << "::1" << 0 << "ssh://[::1]";
        QTest::newRow("trailing slash") << "ssh://h/" << "" << "h" << 0 << "h";
    }
    void parsesValidAddresses()
    {
        QFETCH(QString, text);
        QFETCH(QString, user);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, roundTrip);
        const auto address = SshAddress::parse(text);
        QVERIFY2(address.has_value(), address ? "" : address.error().message.c_str());
        QCOMPARE(address->user, user);
        QCOMPARE(address->host, host);
        QCOMPARE(address->port, port);
        QCOMPARE(address->toString(), roundTrip);
        QCOMPARE(SshAddress::parse(address->toString()).value(), *address);
    }

    void refusesInvalidAddresses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << "";
        QTest::newRow("option injection") << "-oProxyCommand=sh";
        QTest::newRow("user option injection") << "ssh://-oProxyCommand=x@host";
        QTest::newRow("port zero") << "ssh://h:0";
        QTest::newRow("port too big") << "ssh://h:65536";
        QTest::newRow("port not a number") << "ssh://h:ssh";
        QTest::newRow("empty port") << "ssh://h:";
        QTest::newRow("unclosed ipv6") << "ssh://[::1";
        QTest::newRow("bad ipv6") << "ssh://[nothex]:22";
        QTest::newRow("space") << "my host";
        QTest::newRow("newline after the host") << "ssh://a\n:22";
        QTest::newRow("newline in an alias") << "mail1\nx";
        QTest::newRow("shell syntax in the user") << "ssh://a;id@host";
    }
    void refusesInvalidAddresses()
    {
        QFETCH(QString, text);
        const auto address = SshAddress::parse(text);
        QVERIFY(!address.has_value());
        QCOMPARE(address.error().code, mm::ErrorCode::BadRequest);
        QVERIFY(!address.error().message.empty());
    }

    void buildsSshArguments()
    {
        const auto address = SshAddress::parse(QStringLiteral("ssh://vmail@node:2200")).value();
        QCOMPARE(address.sshArguments(),
                 (QStringList{QStringLiteral("-p"), QStringLiteral("2200"), QStringLiteral("-l"),
                              QStringLiteral("vmail"), QStringLiteral("node")}));
    }
};

QTEST_GUILESS_MAIN(TestSshAddress)
#include "tst_sshaddress.moc"
