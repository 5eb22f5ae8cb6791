// The pure parts of the SSH layer, on outputs recorded from OpenSSH 9.2: how ssh's stderr is
// diagnosed, how a finished command is read, host-key fingerprints, and argument quoting
// (checked against the real /bin/sh).

#include "remote/hostkey.h"
#include "remote/shellquote.h"
#include "remote/sshcommand.h"
#include "remote/sshfailure.h"

#include <QProcess>
#include <QTest>

using namespace mm;
using namespace mm::remote;

Q_DECLARE_METATYPE(mm::ErrorCode)

namespace {

// Recorded from `ssh -o StrictHostKeyChecking=yes` against a loopback sshd whose key differs
// from the pinned one.
const char kChangedKeyStderr[] =
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
    "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n"
    "It is also possible that a host key has just been changed.\n"
    "The fingerprint for the ED25519 key sent by the remote host is\n"
    "SHA256:a12ukuwj42q+VrlPPo2cORIut0EFdUB8cxvwVkK+9Z8.\n"
    "Please contact your system administrator.\n"
    "Add correct host key in /tmp/rs/kh to get rid of this message.\n"
    "Offending ED25519 key in /tmp/rs/kh:1\n"
    "  remove with:\n"
    "  ssh-keygen -f \"/tmp/rs/kh\" -R \"[127.0.0.1]:42222\"\n"
    "Host key for [127.0.0.1]:42222 has changed and you have requested strict checking.\n"
    "Host key verification failed.\n";

} // namespace

class TestSshParsing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void diagnosesFailures_data()
    {
        QTest::addColumn<QString>("stderrText");
        QTest::addColumn<mm::ErrorCode>("code");
        QTest::addColumn<QString>("mentions");

        QTest::newRow("unknown key")
            << "No ED25519 host key is known for [127.0.0.1]:42222 and you have requested strict "
               "checking.\nHost key verification failed.\n"
            << ErrorCode::UnknownHostKey << "not known";
        QTest::newRow("changed key")
            << QString::fromLatin1(kChangedKeyStderr) << ErrorCode::ChangedHostKey
            << "SHA256:a12ukuwj42q+VrlPPo2cORIut0EFdUB8cxvwVkK+9Z8";
        QTest::newRow("auth refused") << "nobody@127.0.0.1: Permission denied (publickey).\n"
                                      << ErrorCode::AccessDenied << "ssh-agent";
        QTest::newRow("refused") << "ssh: connect to host 127.0.0.1 port 1: Connection refused\n"
                                 << ErrorCode::Unreachable << "Connection refused";
        QTest::newRow("dns") << "ssh: Could not resolve hostname nonexistent.invalid: Name or "
                                "service not known\n"
                             << ErrorCode::Unreachable << "nonexistent.invalid";
        QTest::newRow("timeout")
            << "ssh: connect to host 10.255.255.1 port 22: Connection timed out\n"
            << ErrorCode::Timeout << "timed out";
        QTest::newRow("bad option") << "command-line: line 0: Bad configuration option: bogus\n"
                                    << ErrorCode::BadRequest << "bogus";
        QTest::newRow("closed") << "Connection closed by 127.0.0.1 port 42222\n"
                                << ErrorCode::Unreachable << "Connection closed";
        QTest::newRow("silent") << "" << ErrorCode::Unreachable << "no message";
    }
    void diagnosesFailures()
    {
        QFETCH(QString, stderrText);
        QFETCH(mm::ErrorCode, code);
        QFETCH(QString, mentions);
        const SshFailure failure = SshFailure::diagnose(stderrText, QStringLiteral("node1"));
        QCOMPARE(failure.error.code, code);
        const QString message = QString::fromStdString(failure.error.message);
        QVERIFY2(message.contains(mentions), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("node1")), qPrintable(message));
    }

    void changedKeyNamesTheOffendingLine()
    {
        const SshFailure failure =
            SshFailure::diagnose(QString::fromLatin1(kChangedKeyStderr), QStringLiteral("n"));
        QCOMPARE(failure.offendingFile, QStringLiteral("/tmp/rs/kh"));
        QCOMPARE(failure.offendingLine, 1);
        QCOMPARE(failure.offeredFingerprint,
                 QStringLiteral("SHA256:a12ukuwj42q+VrlPPo2cORIut0EFdUB8cxvwVkK+9Z8"));
    }

    void fingerprintsLikeSshKeygen_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("fingerprint");
        // Fingerprints printed by `ssh-keygen -lf` for these keys.
        QTest::newRow("ed25519")
            << "[127.0.0.1]:42222 ssh-ed25519 "
               "AAAAC3NzaC1lZDI1NTE5AAAAIFQMr1m9zmkgylxhq+gKskFl8dX0q2gq++1PLY2wlqnd"
            << "SHA256:a12ukuwj42q+VrlPPo2cORIut0EFdUB8cxvwVkK+9Z8";
        QTest::newRow("marker and comment")
            << "@revoked host ssh-ed25519 "
               "AAAAC3NzaC1lZDI1NTE5AAAAIFQMr1m9zmkgylxhq+gKskFl8dX0q2gq++1PLY2wlqnd root@vm"
            << "SHA256:a12ukuwj42q+VrlPPo2cORIut0EFdUB8cxvwVkK+9Z8";
    }
    void fingerprintsLikeSshKeygen()
    {
        QFETCH(QString, line);
        QFETCH(QString, fingerprint);
        const auto key = HostKey::fromKnownHostsLine(line);
        QVERIFY(key.has_value());
        QCOMPARE(key->fingerprint(), fingerprint);
        QCOMPARE(HostKey::fromKnownHostsLine(key->knownHostsLine()).value(), *key);
    }

    void refusesBadKnownHostsLines_data()
    {
        QTest::addColumn<QString>("line");
        QTest::newRow("empty") << "";
        QTest::newRow("two fields") << "host ssh-ed25519";
        QTest::newRow("not base64") << "host ssh-ed25519 !!!!";
    }
    void refusesBadKnownHostsLines()
    {
        QFETCH(QString, line);
        const auto key = HostKey::fromKnownHostsLine(line);
        QVERIFY(!key.has_value());
        QCOMPARE(key.error().code, ErrorCode::InvalidData);
    }

    void interpretsCommandResults_data()
    {
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("stderrText");
        QTest::addColumn<bool>("usedRunAs");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<mm::ErrorCode>("code");

        QTest::newRow("success") << 0 << QByteArray() << false << true << ErrorCode::InternalError;
        QTest::newRow("command failed is not an error")
            << 3 << QByteArray("grep: x: No such file") << false << true
            << ErrorCode::InternalError;
        QTest::newRow("ssh failed") << 255 << QByteArray("Connection closed by 127.0.0.1 port 22\n")
                                    << false << false << ErrorCode::Unreachable;
        QTest::newRow("sudo needs a password") << 1 << QByteArray("sudo: a password is required\n")
                                               << true << false << ErrorCode::AccessDenied;
        QTest::newRow("not in sudoers")
            << 1
            << QByteArray("admin is not in the sudoers file.  This incident will be reported.\n")
            << true << false << ErrorCode::AccessDenied;
        QTest::newRow("runuser unknown user")
            << 1
            << QByteArray("runuser: user vmail does not exist or the user entry does not contain "
                          "all the required fields\n")
            << true << false << ErrorCode::AccessDenied;
        QTest::newRow("no sudo") << 127 << QByteArray("bash: line 1: sudo: command not found\n")
                                 << true << false << ErrorCode::Unsupported;
        QTest::newRow("sudo text without run-as")
            << 1 << QByteArray("sudo: a password is required\n") << false << true
            << ErrorCode::InternalError;
    }
    void interpretsCommandResults()
    {
        QFETCH(int, exitCode);
        QFETCH(QByteArray, stderrText);
        QFETCH(bool, usedRunAs);
        QFETCH(bool, ok);
        QFETCH(mm::ErrorCode, code);
        const auto result =
            SshCommand::interpret(exitCode, "out", stderrText, usedRunAs, QStringLiteral("n1"));
        QCOMPARE(result.has_value(), ok);
        if (ok) {
            QCOMPARE(result->exitCode, exitCode);
            QCOMPARE(result->standardOutput, QByteArray("out"));
        } else {
            QCOMPARE(result.error().code, code);
            QVERIFY(result.error().message.find("n1") != std::string::npos);
        }
    }

    // Each argument must reach the remote program as exactly one word, whatever it holds.
    void quotesForARealShell_data()
    {
        QTest::addColumn<QStringList>("argv");
        QTest::newRow("plain") << QStringList{QStringLiteral("ls"), QStringLiteral("-la"),
                                              QStringLiteral("/srv/mail")};
        QTest::newRow("spaces") << QStringList{QStringLiteral("a b"), QStringLiteral("  c  ")};
        QTest::newRow("quotes") << QStringList{QStringLiteral("it's"), QStringLiteral("\"x\""),
                                               QStringLiteral("'")};
        QTest::newRow("expansions")
            << QStringList{QStringLiteral("$HOME"), QStringLiteral("`id`"), QStringLiteral("$(id)"),
                           QStringLiteral("~"), QStringLiteral("*")};
        QTest::newRow("operators")
            << QStringList{QStringLiteral(";"), QStringLiteral("&&"), QStringLiteral("|"),
                           QStringLiteral(">x"), QStringLiteral("a\nb")};
        // "$" without \\z matches before a final newline: these once went out unquoted.
        QTest::newRow("trailing newline")
            << QStringList{QStringLiteral("a\n"), QStringLiteral("id\n"), QStringLiteral("\n")};
        QTest::newRow("empty and utf8")
            << QStringList{QString(), QStringLiteral("Entwürfe"), QStringLiteral("\\")};
    }
    void quotesATrailingNewline()
    {
        QCOMPARE(shellQuote(QStringLiteral("a\n")), QStringLiteral("'a\n'"));
        QCOMPARE(shellQuote(QStringLiteral("a")), QStringLiteral("a"));
    }
    void quotesForARealShell()
    {
        QFETCH(QStringList, argv);
        QProcess shell;
        // What the remote login shell does with ssh's command string: parse it, run printf.
        const QString script = QStringLiteral("printf '%s\\0' ") + shellJoin(argv);
        shell.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), script});
        QVERIFY(shell.waitForFinished(5000));
        QCOMPARE(shell.exitCode(), 0);
        QByteArray output = shell.readAllStandardOutput();
        QVERIFY(output.endsWith('\0'));
        output.chop(1);
        QStringList words;
        for (const QByteArray &word : output.split('\0'))
            words << QString::fromUtf8(word);
        QCOMPARE(words, argv);
    }
};

QTEST_GUILESS_MAIN(TestSshParsing)
#include "tst_sshsession_parsing.moc"
