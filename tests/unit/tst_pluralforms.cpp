// The English plural forms: "%n node(s)" reads "1 node" and "3 nodes" once installed, and the
// committed translation covers every "%n" message in the sources (lupdate finds them). No other
// text a user reads says "(s)": every string literal in app/, core/ and ui/ is scanned.

#include "cluster/pluralforms.h"

#include <QCoreApplication>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

namespace {

QSet<QString> numerusSources(const QString &tsFile)
{
    QFile file(tsFile);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QString text = QString::fromUtf8(file.readAll());
    QSet<QString> sources;
    // Context and source: tr() looks a message up by both.
    static const QRegularExpression context(QStringLiteral("<context>\\s*<name>(.*?)</name>(.*?)</context>"),
                                            QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression numerus(QStringLiteral("<message numerus=\"yes\">\\s*<source>(.*?)</source>"),
                                            QRegularExpression::DotMatchesEverythingOption);
    for (const QRegularExpressionMatch &block : context.globalMatch(text))
        for (const QRegularExpressionMatch &match : numerus.globalMatch(block.captured(2)))
            sources.insert(block.captured(1) + QLatin1String(": ") + match.captured(1));
    return sources;
}

} // namespace

class TestPluralForms : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsReadAsEnglish()
    {
        QVERIFY(mm::cluster::installPluralForms());
        QCOMPARE(QCoreApplication::translate("mm::ui::MigrationDialog", "&Migrate %n Node(s)", nullptr, 1),
                 QStringLiteral("&Migrate 1 Node"));
        QCOMPARE(QCoreApplication::translate("mm::ui::MigrationDialog", "&Migrate %n Node(s)", nullptr, 3),
                 QStringLiteral("&Migrate 3 Nodes"));
        QCOMPARE(QCoreApplication::translate("mm::ui::DuplicatesDialog", "%n group(s) are settled on %1 and Syncthing carries the "
                                             "result to the other nodes. The copies that go are kept in %1's quarantine "
                                             "and can be restored.", nullptr, 1)
                     .left(24),
                 QStringLiteral("1 group is settled on %1"));
    }

    void everyCountedMessageHasItsForms()
    {
        QTemporaryDir dir;
        const QString fresh = dir.filePath(QStringLiteral("fresh.ts"));
        QProcess lupdate;
        lupdate.setWorkingDirectory(QStringLiteral(MAILMESH_SOURCE_DIR));
        lupdate.start(QStringLiteral(MAILMESH_LUPDATE), {QStringLiteral("-pluralonly"), QStringLiteral("-locations"),
                                                         QStringLiteral("none"), QStringLiteral("-I"), QStringLiteral("."),
                                                         QStringLiteral("-I"), QStringLiteral("core"), QStringLiteral("ui"), QStringLiteral("app"),
                                                         QStringLiteral("core"), QStringLiteral("-ts"), fresh});
        QVERIFY(lupdate.waitForFinished(120000));
        QCOMPARE(lupdate.exitCode(), 0);
        const QSet<QString> needed = numerusSources(fresh);
        const QSet<QString> committed = numerusSources(QStringLiteral(MAILMESH_SOURCE_DIR "/resources/translations/mailmesh_en.ts"));
        QVERIFY(!needed.isEmpty());
        const QSet<QString> missing = needed - committed;
        QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("no plural forms for: %1 (resources/translations/README.md)")
                                                   .arg(QStringList(missing.cbegin(), missing.cend()).join(QStringLiteral(" | ")))));
    }

    // "7 folder(s) converted" is what the issue saw in the wizard: a count must go through a "%n"
    // (or "%Ln") message with its forms, or through cluster::counted() for untranslated English.
    void noStringLiteralSaysPluralInParentheses()
    {
        static const QRegularExpression literal(QStringLiteral("\"((?:[^\"\\\\\\n]|\\\\.)*)\""));
        static const QRegularExpression parenthesisedPlural(QStringLiteral("\\w\\((s|es|ies)\\)"));
        QStringList found;
        for (const char *dir : {"app", "core", "ui"}) {
            QDirIterator files(QStringLiteral(MAILMESH_SOURCE_DIR "/") + QLatin1String(dir),
                               {QStringLiteral("*.cpp"), QStringLiteral("*.h")}, QDir::Files, QDirIterator::Subdirectories);
            while (files.hasNext()) {
                const QString path = files.next();
                QFile file(path);
                QVERIFY(file.open(QIODevice::ReadOnly));
                int lineNumber = 0;
                for (const QByteArray &raw : file.readAll().split('\n')) {
                    ++lineNumber;
                    QString line = QString::fromUtf8(raw);
                    // A comment's own quotes are not text a user reads.
                    if (const qsizetype comment = line.indexOf(QLatin1String("//"));
                        comment >= 0 && !line.trimmed().startsWith(u'"') && line.left(comment).count(u'"') % 2 == 0)
                        line.truncate(comment);
                    for (const QRegularExpressionMatch &match : literal.globalMatch(line)) {
                        const QString text = match.captured(1);
                        if (text.contains(parenthesisedPlural) && !text.contains(QLatin1String("%n"))
                            && !text.contains(QLatin1String("%Ln")))
                            found << QStringLiteral("%1:%2: %3").arg(path.mid(int(qstrlen(MAILMESH_SOURCE_DIR)) + 1)).arg(lineNumber).arg(text);
                    }
                }
            }
        }
        QVERIFY2(found.isEmpty(), qPrintable(found.join(u'\n')));
    }
};

QTEST_GUILESS_MAIN(TestPluralForms)
#include "tst_pluralforms.moc"
