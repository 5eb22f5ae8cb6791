// The long chaos run (label slow; docs/mailbox-state.md): ten minutes of concurrent IMAP clients
// and deliveries on every node (mailboxchaos.h), once on a cluster migrated to cur/-only by
// mailmeshctl, where nothing may be lost, duplicated or disagree (with Maildir++ folders, and
// again with LAYOUT=fs ones), and once on stock Dovecot over
// classic Maildirs, paired by mailmeshctl but not migrated, which must show the duplicates the
// product exists to prevent. MAILMESH_CHAOS_SECONDS shortens both runs.

#include "ctlcluster.h"
#include "mailboxchaos.h"

#include <QTest>

using namespace mm;
using namespace mm::test;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);
const QString kStockPrefix = QStringLiteral(MAILMESH_STOCK_DOVECOT_PREFIX);

ChaosOptions longRun()
{
    ChaosOptions options;
    options.seconds = qEnvironmentVariableIntValue("MAILMESH_CHAOS_SECONDS");
    if (options.seconds <= 0)
        options.seconds = 600;
    options.settleTimeoutMs = 600000;
    return options;
}

} // namespace

class TestMailboxChaos : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh and configure "
                  "with -DMAILMESH_DOVECOT_PREFIX=<the path it prints>");
    }

    void curOnlyClusterLosesNothing() { curOnlyChaos(false); }

    // The same on folders in Dovecot's LAYOUT=fs, where a folder is a directory inside its
    // parent and Dovecot deletes one through ..DOVECOT-TrasH (docs/maildir-dovecot-syncthing.md,
    // "Open findings"): nothing lost, duplicated or disagreeing, and Syncthing settles.
    void curOnlyFsLayoutClusterLosesNothing() { curOnlyChaos(true); }

    void stockDovecotDuplicates()
    {
        if (kStockPrefix.isEmpty())
            QSKIP("no stock Dovecot to compare with");
        CtlCluster cluster;
        CtlCluster::Options options;
        options.dovecotPrefix = kStockPrefix;
        options.migrate = false;
        const QString error = cluster.setUp(options);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // Stock nodes may never agree again: each one turns the same race into its own duplicate.
        ChaosOptions chaos = longRun();
        chaos.settleTimeoutMs = 120000;
        const ChaosFigures figures = MailboxChaos(cluster, chaos).run();
        cluster.tearDown();
        qInfo().noquote() << "chaos, stock Dovecot:" << figures.summary();
        QVERIFY2(figures.duplicates > 0, qPrintable(figures.summary()));
    }

private:
    void curOnlyChaos(bool fsLayout)
    {
        CtlCluster cluster;
        CtlCluster::Options options;
        options.dovecotPrefix = kPrefix;
        options.fsLayout = fsLayout;
        const QString error = cluster.setUp(options);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const ChaosFigures figures = MailboxChaos(cluster, longRun()).run();
        cluster.tearDown();
        qInfo().noquote() << (fsLayout ? "chaos, cur/-only, LAYOUT=fs:" : "chaos, cur/-only:") << figures.summary();
        QVERIFY2(figures.broken().isEmpty(), qPrintable(figures.broken()));
    }
};

QTEST_GUILESS_MAIN(TestMailboxChaos)
#include "tst_mailboxchaos.moc"
