// What the mail folder shares: a Syncthing home inside the mail root (vmail's home is the mail
// root in the usual virtual-user setup) is ignored on that node, anchored and escaped; a home
// elsewhere adds nothing. Found on the lab's Debian nodes, where syncthing@vmail keeps
// /var/vmail/.config/syncthing and pairing copied node1's keys to every node.
// And the directory Dovecot renames a folder to while deleting it, in either folder layout.

#include "cluster/config/mailfolderpolicy.h"

#include <QTest>

using namespace mm::cluster;

class TestMailFolderPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ignoresSyncthingsHomeInsideTheMailRoot_data()
    {
        QTest::addColumn<QString>("mailRoot");
        QTest::addColumn<QString>("home");
        QTest::addColumn<QString>("extra"); // the patterns added, empty: none
        // The user's default home comes with Syncthing 1.27's default data dir beside it.
        QTest::newRow("vmail's home") << "/var/vmail"
                                      << "/var/vmail/.config/syncthing"
                                      << "/.config/syncthing /.local/state/syncthing";
        QTest::newRow("trailing slashes") << "/var/vmail/"
                                          << "/var/vmail/.config/syncthing/"
                                          << "/.config/syncthing /.local/state/syncthing";
        QTest::newRow("a user's home below the root") << "/srv/mail"
                                                      << "/srv/mail/users/v/.config/syncthing"
                                                      << "/users/v/.config/syncthing /users/v/.local/state/syncthing";
        QTest::newRow("elsewhere") << "/var/vmail"
                                   << "/var/lib/syncthing"
                                   << "";
        QTest::newRow("a sibling with the same prefix") << "/var/vmail"
                                                        << "/var/vmail2/syncthing"
                                                        << "";
        QTest::newRow("pattern characters") << "/srv/mail"
                                            << "/srv/mail/st[1]*"
                                            << "/st\\[1\\]\\*";
        QTest::newRow("no home known") << "/var/vmail"
                                       << ""
                                       << "";
    }
    void ignoresSyncthingsHomeInsideTheMailRoot()
    {
        QFETCH(QString, mailRoot);
        QFETCH(QString, home);
        QFETCH(QString, extra);
        NodeConfig node;
        node.mailRoot = mailRoot;
        node.syncthing.home = home;
        const QStringList base = mailFolderIgnores(UidPolicy::PerNode, NodeConfig{});
        const QStringList ignores = mailFolderIgnores(UidPolicy::PerNode, node);
        QCOMPARE(ignores.mid(0, base.size()), base);
        QStringList added = ignores.mid(base.size());
        added.removeIf(
            [](const QString &line) { return line.startsWith(QLatin1String("//")); }); // comments
        QCOMPARE(added, extra.isEmpty() ? QStringList() : extra.split(u' '));
    }

    // Dovecot deletes a folder by renaming it to a directory of its own first; replicated, that
    // directory reaches nodes whose Dovecot empties it at their next DELETE, and Syncthing can
    // never remove it ("not empty"). Its name differs between the two layouts.
    void ignoresTheFolderDovecotIsDeletingInEitherLayout()
    {
        for (UidPolicy policy : {UidPolicy::PerNode, UidPolicy::Replicated}) {
            const QStringList ignores = mailFolderIgnores(policy, NodeConfig{});
            QVERIFY(ignores.contains(QStringLiteral("(?d)**/..DOVECOT-TRASHED"))); // Maildir++
            QVERIFY(ignores.contains(QStringLiteral("(?d)**/..DOVECOT-TrasH")));   // LAYOUT=fs
        }
    }
};

QTEST_GUILESS_MAIN(TestMailFolderPolicy)
#include "tst_mailfolderpolicy.moc"
