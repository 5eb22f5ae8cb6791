// `inventory` through one long-lived `mailmesh-agent serve`, as the dashboard runs it: every
// answer, after every kind of change, equals what a fresh process gives, one reading everything
// (`--no-memo`) and one sharing the memo as cron's `status --check` does between the dashboard's
// requests. The REAL static binary, driven through stdin/stdout with QProcess.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <random>

namespace {

const QString kAgent = QStringLiteral(MAILMESH_AGENT_BINARY);
constexpr int kWaitMs = 60000; // generous: the machine is shared; never a timing assertion

QByteArray frame(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

// One serve process, one request at a time.
class Serve
{
public:
    ~Serve()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.closeWriteChannel();
            if (!m_process.waitForFinished(kWaitMs))
                m_process.kill();
        }
    }

    bool start()
    {
        m_process.start(kAgent, {QStringLiteral("serve")});
        if (!m_process.waitForStarted() ||
            next().value(QStringLiteral("type")) != QLatin1String("hello"))
            return false;
        m_process.write(frame({{QStringLiteral("type"), QStringLiteral("hello")},
                               {QStringLiteral("schemaVersion"), 1},
                               {QStringLiteral("version"), QStringLiteral("test")}}));
        return true;
    }

    // The result document of `command`, or an empty object (with a warning) if it failed.
    QJsonObject call(const QString &command, const QJsonObject &params)
    {
        const QString id = QStringLiteral("r%1").arg(++m_requests);
        m_process.write(frame({{QStringLiteral("type"), QStringLiteral("request")},
                               {QStringLiteral("id"), id},
                               {QStringLiteral("command"), command},
                               {QStringLiteral("params"), params}}));
        for (;;) {
            const QJsonObject object = next();
            if (object.isEmpty())
                return {};
            const QString type = object.value(QStringLiteral("type")).toString();
            if (object.value(QStringLiteral("id")).toString() != id)
                continue;
            if (type == QLatin1String("item"))
                m_items = true; // a streamed answer: the test's trees are too small for one
            if (type == QLatin1String("result"))
                return object.value(QStringLiteral("result")).toObject();
            if (type == QLatin1String("problem")) {
                qWarning("%s", QJsonDocument(object).toJson().constData());
                return {};
            }
        }
    }

    bool sawItems() const { return m_items; }

private:
    QJsonObject next()
    {
        while (!m_process.canReadLine())
            if (!m_process.waitForReadyRead(kWaitMs) && !m_process.canReadLine())
                return {};
        return QJsonDocument::fromJson(m_process.readLine()).object();
    }

    QProcess m_process;
    int m_requests = 0;
    bool m_items = false;
};

QJsonObject oneShot(const QStringList &arguments)
{
    QProcess process;
    process.start(kAgent, arguments);
    if (!process.waitForFinished(kWaitMs) || process.exitCode() != 0) {
        qWarning("%s", process.readAllStandardError().constData());
        return {};
    }
    return QJsonDocument::fromJson(process.readAllStandardOutput()).object();
}

// What a pass answers about the tree: everything but what it cost and where its memo is.
QJsonObject answerOf(QJsonObject result)
{
    result.remove(QStringLiteral("work"));
    result.remove(QStringLiteral("memo"));
    QJsonObject totals = result.value(QStringLiteral("dupeTotals")).toObject();
    totals.remove(QStringLiteral("bytesRead")); // this pass's reads only
    result.insert(QStringLiteral("dupeTotals"), totals);
    return result;
}

int work(const QJsonObject &result, const char *key)
{
    return result.value(QStringLiteral("work")).toObject().value(QLatin1String(key)).toInt(-1);
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

QByteArray message(int n)
{
    return "Message-ID: <" + QByteArray::number(n) + "@example.org>\nSubject: m" +
           QByteArray::number(n) + "\n\nbody " + QByteArray::number(n) + "\n";
}

QString baseName(int n)
{
    return QStringLiteral("%1.M%2P1.node1").arg(1700000000 + n).arg(n);
}

bool makeFolder(const QString &dir, bool maildirFolder)
{
    return QDir().mkpath(dir + QStringLiteral("/cur")) &&
           QDir().mkpath(dir + QStringLiteral("/tmp")) &&
           QFile::link(QStringLiteral("cur"), dir + QStringLiteral("/new")) &&
           (!maildirFolder || writeFile(dir + QStringLiteral("/maildirfolder"), {}));
}

QStringList namesIn(const QString &cur)
{
    QStringList names = QDir(cur).entryList(QDir::Files);
    names.sort();
    return names;
}

} // namespace

class TestInventoryServe : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void serveAnswersAsAFreshProcess();
};

void TestInventoryServe::serveAnswersAsAFreshProcess()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.filePath(QStringLiteral("Maildir"));
    const QString state = dir.filePath(QStringLiteral("state"));
    QStringList folders{root, root + QStringLiteral("/.Sent"), root + QStringLiteral("/.Archive")};
    int next = 0;
    for (const QString &folder : folders) {
        QVERIFY(makeFolder(folder, folder != root));
        for (int i = 0; i < 8; ++i, ++next)
            QVERIFY(writeFile(folder + QStringLiteral("/cur/") + baseName(next) +
                                  QStringLiteral(":2,S"),
                              message(next)));
    }
    QTest::qWait(2100); // older than the racy window: the first memo is trusted

    Serve serve;
    QVERIFY(serve.start());
    const QJsonObject params{{QStringLiteral("root"), root}, {QStringLiteral("stateDir"), state}};
    std::mt19937 random(24);
    const auto pick = [&](int n) { return int(random() % unsigned(n)); };
    int reused = 0, updated = 0, cronPasses = 0;
    for (int round = 0; round < 16; ++round) {
        for (int change = 0; change < 3; ++change) {
            const QString folder = folders[pick(int(folders.size()))];
            const QString cur = folder + QStringLiteral("/cur/");
            const QStringList names = namesIn(cur);
            const QString some = names.isEmpty() ? QString() : names[pick(int(names.size()))];
            const QString someBase = some.section(QLatin1Char(':'), 0, 0);
            switch (pick(7)) {
            case 0:
            case 1: // deliveries
                QVERIFY(writeFile(cur + baseName(next) + QStringLiteral(":2,"), message(next)));
                ++next;
                break;
            case 2: { // flag change
                const QString flagged =
                    someBase + QStringLiteral(":2,") + QLatin1Char("FRST"[pick(4)]);
                if (!some.isEmpty() && !QFile::exists(cur + flagged))
                    QVERIFY(QFile::rename(cur + some, cur + flagged));
                break;
            }
            case 3: // expunge
                if (!some.isEmpty())
                    QVERIFY(QFile::remove(cur + some));
                break;
            case 4: // the same message again: a new duplicate group
                if (!some.isEmpty())
                    QVERIFY(
                        QFile::copy(cur + some, cur + baseName(next++) + QStringLiteral(":2,S")));
                break;
            case 5: // a flag divergence: a second name of one BASE
                if (!some.isEmpty() && !QFile::exists(cur + someBase + QStringLiteral(":2,D")))
                    QVERIFY(QFile::copy(cur + some, cur + someBase + QStringLiteral(":2,D")));
                break;
            case 6: // a new folder
                folders << root + QStringLiteral("/.F%1").arg(next);
                QVERIFY(makeFolder(folders.back(), true));
                QVERIFY(writeFile(folders.back() + QStringLiteral("/cur/") + baseName(next) +
                                      QStringLiteral(":2,S"),
                                  message(next)));
                ++next;
                break;
            }
        }
        if (round % 4 == 3)
            QTest::qWait(2100); // sometimes old enough to be trusted and reused

        const QJsonObject served = serve.call(QStringLiteral("inventory"), params);
        QVERIFY2(!served.isEmpty(), qPrintable(QStringLiteral("round %1").arg(round)));
        reused += work(served, "foldersReused");
        updated += work(served, "foldersUpdated");
        const QJsonObject fresh = oneShot({QStringLiteral("inventory"), root,
                                           QStringLiteral("--no-memo"), QStringLiteral("--json")});
        QVERIFY(!fresh.isEmpty());
        QCOMPARE(answerOf(served), answerOf(fresh));
        if (round % 3 == 1) {
            // cron's `status --check` between two of the dashboard's requests, on the same memo:
            // the serve's next pass must see what it wrote.
            const QJsonObject cron =
                oneShot({QStringLiteral("inventory"), root, QStringLiteral("--state"), state,
                         QStringLiteral("--json")});
            QVERIFY(!cron.isEmpty());
            QCOMPARE(answerOf(cron), answerOf(fresh));
            ++cronPasses;
        }
    }
    QVERIFY(!serve.sawItems());
    // The serve used its memo (reused and updated folders), so the comparisons above compared an
    // incremental answer, not a second full read.
    QVERIFY(reused > 0);
    QVERIFY(updated > 0);
    QVERIFY(cronPasses > 0);
}

QTEST_GUILESS_MAIN(TestInventoryServe)
#include "tst_inventoryserve.moc"
