// SshOptionPolicy: the ssh options a cluster file may carry. What admins need is accepted and
// normalised; anything that could run a command, forward credentials or loosen host-key checks
// is refused by name, and no value can smuggle in shell syntax or a second option.

#include "remote/sshoptionpolicy.h"

#include <QTest>

using namespace mm;
using namespace mm::remote;

class TestSshOptionPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptsWhatAdminsNeed_data()
    {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("normalised");
        const auto row = [](const char *name, const char *option, const char *normalised) {
            QTest::newRow(name) << QString::fromUtf8(option) << QString::fromUtf8(normalised);
        };
        row("jump", "ProxyJump=bastion", "ProxyJump=bastion");
        row("jump chain", "ProxyJump=admin@jump1:2222,ssh://jump2", "ProxyJump=admin@jump1:2222,ssh://jump2");
        row("jump ipv6", "ProxyJump=[2001:db8::1]:22", "ProxyJump=[2001:db8::1]:22");
        row("jump none", "proxyjump none", "ProxyJump=none");
        row("port with blanks", "Port = 2222", "Port=2222");
        row("user", "User=vmail-admin", "User=vmail-admin");
        row("identity", "IdentityFile=~/.ssh/mail_ed25519", "IdentityFile=~/.ssh/mail_ed25519");
        row("identity absolute", "identityfile=/home/a/.ssh/id_%h", "IdentityFile=/home/a/.ssh/id_%h");
        row("identities only", "IdentitiesOnly=yes", "IdentitiesOnly=yes");
        row("connect timeout", "ConnectTimeout=30", "ConnectTimeout=30");
        row("alive interval", "ServerAliveInterval=0", "ServerAliveInterval=0");
        row("alive count", "ServerAliveCountMax=5", "ServerAliveCountMax=5");
        row("hostname", "HostName=192.0.2.10", "HostName=192.0.2.10");
        row("address family", "AddressFamily=inet6", "AddressFamily=inet6");
        row("methods", "PreferredAuthentications=publickey,keyboard-interactive",
            "PreferredAuthentications=publickey,keyboard-interactive");
    }
    void acceptsWhatAdminsNeed()
    {
        QFETCH(QString, option);
        QFETCH(QString, normalised);
        const auto checked = SshOptionPolicy::check(option);
        QVERIFY2(checked.has_value(), checked ? "" : checked.error().message.c_str());
        QCOMPARE(*checked, normalised);
    }

    void refusesTheRest_data()
    {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("named"); // what the message must name
        const auto row = [](const char *name, const char *option, const char *named) {
            QTest::newRow(name) << QString::fromUtf8(option) << QString::fromUtf8(named);
        };
        // The triggers of issue #20: each runs a command or leaks something.
        row("proxy command", "ProxyCommand=sh -c 'touch MARKER; nc HOST PORT'", "ProxyCommand");
        row("proxy command lowercase", "proxycommand=nc %h %p", "proxycommand");
        row("local command", "LocalCommand=touch /tmp/x", "LocalCommand");
        row("permit local command", "PermitLocalCommand=yes", "PermitLocalCommand");
        row("pkcs11", "PKCS11Provider=/tmp/evil.so", "PKCS11Provider");
        row("security key provider", "SecurityKeyProvider=/tmp/evil.so", "SecurityKeyProvider");
        row("known hosts command", "KnownHostsCommand=/bin/true", "KnownHostsCommand");
        row("global known hosts", "GlobalKnownHostsFile=/tmp/mine", "GlobalKnownHostsFile");
        row("user known hosts", "UserKnownHostsFile=/dev/null", "UserKnownHostsFile");
        row("strict checking off", "StrictHostKeyChecking=no", "StrictHostKeyChecking");
        row("agent", "ForwardAgent=yes", "ForwardAgent");
        row("remote forward", "RemoteForward=2222 localhost:22", "RemoteForward");
        row("local forward", "LocalForward=8080 127.0.0.1:80", "LocalForward");
        row("dynamic forward", "DynamicForward=1080", "DynamicForward");
        row("control path", "ControlPath=/tmp/x", "ControlPath");
        row("include", "Include=/tmp/evil.conf", "Include");
        row("match exec", "Match=exec touch", "Match");
        row("set env", "SetEnv=LD_PRELOAD=/tmp/x.so", "SetEnv");
        // Shapes that would smuggle a second option or shell syntax into ssh.
        row("second option", "Port=22 ProxyCommand=nc", "Key=Value");
        row("newline", "Port=22\nProxyCommand=nc", "control character");
        row("jump with shell", "ProxyJump=a;touch x", "ProxyJump");
        row("jump with command", "ProxyJump=$(id)", "ProxyJump");
        row("jump option", "ProxyJump=-oProxyCommand=x", "ProxyJump");
        row("jump user with shell", "ProxyJump=`id`@host", "ProxyJump");
        row("user with shell", "User=root;id", "User");
        row("user leading dash", "User=-oProxyCommand=x", "User");
        row("port word", "Port=ssh", "Port");
        row("port too big", "Port=65536", "Port");
        row("identity relative", "IdentityFile=id_rsa", "IdentityFile");
        row("identity env", "IdentityFile=${HOME}/.ssh/x", "IdentityFile");
        row("identity quoted", "IdentityFile=\"/a b\"", "IdentityFile");
        row("identity up", "IdentityFile=/home/a/../../etc/shadow", "IdentityFile");
        row("yes no", "IdentitiesOnly=sure", "IdentitiesOnly");
        row("empty", "", "Key=Value");
        row("no value", "Port", "Key=Value");
    }
    void refusesTheRest()
    {
        QFETCH(QString, option);
        QFETCH(QString, named);
        const auto checked = SshOptionPolicy::check(option);
        QVERIFY2(!checked.has_value(), qPrintable(option));
        QCOMPARE(checked.error().code, ErrorCode::BadRequest);
        const QString message = QString::fromStdString(checked.error().message);
        QVERIFY2(message.contains(named), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("refused")), qPrintable(message));
    }

    void namesWhatIsAllowed()
    {
        const auto checked = SshOptionPolicy::check(QStringLiteral("ProxyCommand=nc"));
        const QString message = QString::fromStdString(checked.error().message);
        for (const char *key : {"ProxyJump", "Port", "User", "IdentityFile", "IdentitiesOnly",
                                "ConnectTimeout", "ServerAliveInterval", "ServerAliveCountMax"})
            QVERIFY2(message.contains(QLatin1String(key)), key);
    }
};

QTEST_GUILESS_MAIN(TestSshOptionPolicy)
#include "tst_sshoptionpolicy.moc"
