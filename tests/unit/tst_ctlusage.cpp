// mailmeshctl's usage texts, made from its command table, through the real binary: every command
// answers `--help` (exit 0, on stdout) with a usage that names it and a line of help for each
// option; the top-level usage lists every command; bad usage exits 2 with the command's usage;
// no "(s)" in any of it; the man page names every command. Needs no cluster and no network.
// And the parser that reads a command's words by its spec (app/mailmeshctl/commandline.cpp).

#include "commandline.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
};

Run ctl(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(MAILMESHCTL_BINARY), arguments);
    Run run;
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

// The commands the top-level usage lists: the lower-case words of each row under "commands:"
// ("quarantine restore"; "ID" and "[ID...]" are arguments).
QStringList listedCommands(const QString &usage)
{
    QStringList commands;
    const QStringList lines = usage.split(u'\n');
    qsizetype row = lines.indexOf(QStringLiteral("commands:")) + 1;
    for (; row > 0 && row < lines.size() && !lines[row].isEmpty(); ++row) {
        const QString &line = lines[row];
        if (line.startsWith(QLatin1String("   ")))
            continue; // a summary that goes on
        const QString nameColumn = line.trimmed().section(QStringLiteral("  "), 0, 0);
        QStringList words;
        for (const QString &word : nameColumn.split(u' '))
            if (!word.isEmpty() && word == word.toLower() && word.front().isLetter())
                words << word;
        commands << words.join(u' ');
    }
    return commands;
}

QStringList groupsOf(const QStringList &commands)
{
    QStringList groups;
    for (const QString &command : commands)
        if (command.contains(u' ') && !groups.contains(command.section(u' ', 0, 0)))
            groups << command.section(u' ', 0, 0);
    return groups;
}

// The commands every release has had; a new one is checked too, from the usage.
const QStringList kKnownCommands{
    QStringLiteral("init"),           QStringLiteral("add-node"),          QStringLiteral("prepare"),
    QStringLiteral("pair"),           QStringLiteral("join"),              QStringLiteral("remove-node"),
    QStringLiteral("migrate"),        QStringLiteral("revert"),            QStringLiteral("deploy-dovecot"),
    QStringLiteral("dupes"),          QStringLiteral("dedupe"),            QStringLiteral("quarantine list"),
    QStringLiteral("quarantine restore"), QStringLiteral("quarantine purge"), QStringLiteral("status"),
    QStringLiteral("sandbox up"),     QStringLiteral("sandbox down"),      QStringLiteral("lab up"),
    QStringLiteral("lab add"),        QStringLiteral("lab down")};

// Specs shaped like join, deploy-dovecot and quarantine restore, for the parser's cases.
mm::ctl::Command specNamed(const QString &name)
{
    using mm::ctl::CommandOption;
    if (name == QLatin1String("join"))
        return {.name = name,
                .arguments = {{.name = QStringLiteral("ID")}},
                .options = {{.name = QStringLiteral("dry-run")},
                            {.name = QStringLiteral("timeout"), .valueName = QStringLiteral("MINUTES")}}};
    if (name == QLatin1String("deploy"))
        return {.name = name,
                .arguments = {{.name = QStringLiteral("ID"), .optional = true, .repeated = true}},
                .options = {{.name = QStringLiteral("packages"), .valueName = QStringLiteral("DIR"),
                             .alternatives = QStringLiteral("build")},
                            {.name = QStringLiteral("prefix"), .valueName = QStringLiteral("DIR"),
                             .alternatives = QStringLiteral("build")}}};
    return {.name = name,
            .options = {{.name = QStringLiteral("node"), .valueName = QStringLiteral("ID"), .required = true},
                        {.name = QStringLiteral("id"), .valueName = QStringLiteral("ID"), .repeated = true,
                         .alternatives = QStringLiteral("entries")},
                        {.name = QStringLiteral("all"), .alternatives = QStringLiteral("entries")}}};
}

} // namespace

class TestCtlUsage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        const Run help = ctl({QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        // A command the table refused (a taken name, no help text) is named on stderr.
        QVERIFY2(help.err.isEmpty(), qPrintable(help.err));
        m_usage = help.out;
        m_commands = listedCommands(m_usage);
        QVERIFY2(!m_commands.isEmpty(), qPrintable(m_usage));
    }

    void topLevelUsageListsEveryCommand()
    {
        for (const QString &command : kKnownCommands)
            QVERIFY2(m_commands.contains(command), qPrintable(command + QStringLiteral(" is not in:\n") + m_usage));
        QCOMPARE(m_commands.removeDuplicates(), 0);
        // Without a command the same usage is an error.
        const Run bare = ctl({});
        QCOMPARE(bare.exitCode, 2);
        QCOMPARE(bare.err, m_usage);
    }

    void everyCommandAnswersHelp_data()
    {
        QTest::addColumn<QString>("command");
        for (const QString &command : std::as_const(m_commands))
            QTest::newRow(qPrintable(command)) << command;
    }

    void everyCommandAnswersHelp()
    {
        QFETCH(QString, command);
        const QStringList words = command.split(u' ');
        for (const QStringList &arguments : {words + QStringList{QStringLiteral("--help")},
                                             QStringList{QStringLiteral("--help")} + words}) {
            const Run run = ctl(arguments);
            QCOMPARE(run.exitCode, 0);
            QVERIFY2(run.err.isEmpty(), qPrintable(run.err));
            QVERIFY2(run.out.startsWith(QLatin1String("usage: mailmeshctl ")), qPrintable(run.out));
            const QString synopsis = run.out.section(QStringLiteral("\n\n"), 0, 0);
            QVERIFY2(synopsis.contains(u' ' + command + u' ') || synopsis.endsWith(u' ' + command),
                     qPrintable(run.out));
            // The summary, then a line for each option that says what it does.
            const QStringList paragraphs = run.out.trimmed().split(QStringLiteral("\n\n"));
            QVERIFY2(paragraphs.size() >= 2 && !paragraphs[1].trimmed().isEmpty(), qPrintable(run.out));
            static const QRegularExpression optionRow(QStringLiteral("^  (--\\S+)( \\S+)?(  +(.*))?$"),
                                                      QRegularExpression::MultilineOption);
            for (const QRegularExpressionMatch &row : optionRow.globalMatch(run.out))
                QVERIFY2(!row.captured(4).trimmed().isEmpty(), qPrintable(row.captured(1) + QStringLiteral(" has no help")));
        }
    }

    void groupsAnswerHelp()
    {
        for (const QString &group : groupsOf(m_commands)) {
            const Run run = ctl({group, QStringLiteral("--help")});
            QCOMPARE(run.exitCode, 0);
            for (const QString &command : std::as_const(m_commands))
                if (command.startsWith(group + u' '))
                    QVERIFY2(run.out.contains(command), qPrintable(command + QStringLiteral(" is not in:\n") + run.out));
            // Without a subcommand: the same list, as an error.
            const Run bare = ctl({group});
            QCOMPARE(bare.exitCode, 2);
            QVERIFY2(bare.err.contains(run.out), qPrintable(bare.err));
        }
    }

    void unknownOptionExitsTwoWithTheCommandsUsage_data() { everyCommandAnswersHelp_data(); }

    void unknownOptionExitsTwoWithTheCommandsUsage()
    {
        QFETCH(QString, command);
        const Run help = ctl(command.split(u' ') + QStringList{QStringLiteral("--help")});
        const Run run = ctl(command.split(u' ') + QStringList{QStringLiteral("--no-such-option")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY(run.out.isEmpty());
        QVERIFY2(run.err.startsWith(QStringLiteral("mailmeshctl %1: unknown option --no-such-option\n").arg(command)),
                 qPrintable(run.err));
        QVERIFY2(run.err.endsWith(help.out), qPrintable(run.err));
    }

    void globalOptionsWorkOnEitherSide()
    {
        const QString missing = QStringLiteral("/nonexistent/mailmesh-cluster.json");
        for (const QStringList &arguments :
             {QStringList{QStringLiteral("--cluster"), missing, QStringLiteral("dupes")},
              QStringList{QStringLiteral("dupes"), QStringLiteral("--cluster"), missing, QStringLiteral("--json")},
              QStringList{QStringLiteral("--json"), QStringLiteral("dupes"), QStringLiteral("--cluster=") + missing}}) {
            const Run run = ctl(arguments);
            QCOMPARE(run.exitCode, 2);
            QVERIFY2(run.err.contains(missing), qPrintable(run.err));
        }
        for (const QStringList &arguments : {QStringList{QStringLiteral("--version")},
                                             QStringList{QStringLiteral("migrate"), QStringLiteral("--version")}}) {
            const Run run = ctl(arguments);
            QCOMPARE(run.exitCode, 0);
            QVERIFY2(run.out.startsWith(QLatin1String("mailmeshctl ")), qPrintable(run.out));
        }
    }

    void noPluralInParentheses()
    {
        QString everything = m_usage;
        for (const QString &command : std::as_const(m_commands))
            everything += ctl(command.split(u' ') + QStringList{QStringLiteral("--help")}).out;
        for (const QString &group : groupsOf(m_commands))
            everything += ctl({group, QStringLiteral("--help")}).out;
        static const QRegularExpression plural(QStringLiteral("\\w\\((s|es)\\)"));
        const QRegularExpressionMatch found = plural.match(everything);
        QVERIFY2(!found.hasMatch(), qPrintable(everything.mid(found.capturedStart() - 60, 120)));
    }

    void parsesWordsBySpec_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QStringList>("words");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QStringList>("positionals");
        QTest::addColumn<QString>("option");
        QTest::addColumn<QStringList>("values");
        const QString none;
        const QString join = QStringLiteral("join"), deploy = QStringLiteral("deploy"), restore = QStringLiteral("restore");
        QTest::newRow("one argument") << join << QStringList{u"n1"_s} << none << QStringList{u"n1"_s} << none << QStringList{};
        QTest::newRow("missing argument") << join << QStringList{} << u"missing ID"_s << QStringList{} << none << QStringList{};
        QTest::newRow("one word too many") << join << QStringList{u"n1"_s, u"n2"_s} << u"unexpected argument n2"_s
                                 << QStringList{} << none << QStringList{};
        QTest::newRow("a flag") << join << QStringList{u"--dry-run"_s, u"n1"_s} << none << QStringList{u"n1"_s}
                      << u"dry-run"_s << QStringList{QString()};
        QTest::newRow("a flag with a value") << join << QStringList{u"n1"_s, u"--dry-run=yes"_s}
                                   << u"--dry-run takes no value"_s << QStringList{} << none << QStringList{};
        QTest::newRow("a value") << join << QStringList{u"n1"_s, u"--timeout"_s, u"5"_s} << none << QStringList{u"n1"_s}
                       << u"timeout"_s << QStringList{u"5"_s};
        QTest::newRow("an inline value") << join << QStringList{u"--timeout=5"_s, u"n1"_s} << none << QStringList{u"n1"_s}
                               << u"timeout"_s << QStringList{u"5"_s};
        QTest::newRow("the last value counts") << join << QStringList{u"n1"_s, u"--timeout=5"_s, u"--timeout=7"_s} << none
                                     << QStringList{u"n1"_s} << u"timeout"_s << QStringList{u"7"_s};
        QTest::newRow("a value missing") << join << QStringList{u"n1"_s, u"--timeout"_s} << u"--timeout needs a value"_s
                               << QStringList{} << none << QStringList{};
        QTest::newRow("an unknown option") << join << QStringList{u"n1"_s, u"--foo=1"_s} << u"unknown option --foo"_s
                                 << QStringList{} << none << QStringList{};
        QTest::newRow("-- ends the options") << join << QStringList{u"--"_s, u"--n1"_s} << none << QStringList{u"--n1"_s}
                                   << none << QStringList{};
        QTest::newRow("no alternative") << deploy << QStringList{} << u"give one of --packages DIR or --prefix DIR"_s
                              << QStringList{} << none << QStringList{};
        QTest::newRow("both alternatives") << deploy << QStringList{u"--packages"_s, u"a"_s, u"--prefix"_s, u"b"_s}
                                 << u"give only one of --packages DIR or --prefix DIR"_s << QStringList{} << none
                                 << QStringList{};
        QTest::newRow("a repeated argument") << deploy << QStringList{u"n1"_s, u"--prefix"_s, u"/p"_s, u"n2"_s} << none
                                   << QStringList{u"n1"_s, u"n2"_s} << u"prefix"_s << QStringList{u"/p"_s};
        QTest::newRow("a repeated option") << restore << QStringList{u"--node"_s, u"x"_s, u"--id"_s, u"1"_s, u"--id=2"_s}
                                 << none << QStringList{} << u"id"_s << QStringList{u"1"_s, u"2"_s};
        QTest::newRow("a required option missing") << restore << QStringList{u"--all"_s} << u"missing --node ID"_s
                                         << QStringList{} << none << QStringList{};
    }

    void parsesWordsBySpec()
    {
        QFETCH(QString, spec);
        QFETCH(QStringList, words);
        QFETCH(QString, error);
        mm::ctl::GlobalOptions globals;
        const mm::ctl::Command command = specNamed(spec);
        const mm::ctl::CommandLine line(command, words, globals);
        QCOMPARE(line.error(), error);
        if (!error.isEmpty())
            return;
        QFETCH(QStringList, positionals);
        QFETCH(QString, option);
        QFETCH(QStringList, values);
        QCOMPARE(line.positionals(), positionals);
        if (!option.isEmpty())
            QCOMPARE(line.values(option), values);
    }

    void takesGlobalOptionsAndHelpAnywhere()
    {
        mm::ctl::GlobalOptions globals;
        const mm::ctl::Command join = specNamed(QStringLiteral("join"));
        const mm::ctl::CommandLine line(join, {u"n1"_s, u"--json"_s, u"--cluster"_s, u"/c.json"_s}, globals);
        QVERIFY(line.error().isEmpty());
        QVERIFY(globals.json);
        QCOMPARE(globals.clusterFile, u"/c.json"_s);
        const mm::ctl::CommandLine inlined(join, {u"--cluster=/d.json"_s, u"n1"_s}, globals);
        QCOMPARE(globals.clusterFile, u"/d.json"_s);
        // Asking for help is never bad usage, whatever else the words hold.
        const mm::ctl::CommandLine help(join, {u"--foo"_s, u"--help"_s}, globals);
        QVERIFY(help.helpRequested());
        QVERIFY(help.error().isEmpty());
    }

    void manPageNamesEveryCommand()
    {
        QFile page(QStringLiteral(MAILMESH_SOURCE_DIR "/installers/package/man/mailmeshctl.1"));
        QVERIFY(page.open(QIODevice::ReadOnly));
        QString text = QString::fromUtf8(page.readAll());
        text.replace(QStringLiteral("\\-"), QStringLiteral("-"));
        text.remove(QRegularExpression(QStringLiteral("\\\\f[BIRP]")));
        for (const QString &command : std::as_const(m_commands))
            QVERIFY2(text.contains(command), qPrintable(command + QStringLiteral(" is not in mailmeshctl.1")));
    }

private:
    QString m_usage;
    QStringList m_commands;
};

QTEST_GUILESS_MAIN(TestCtlUsage)
#include "tst_ctlusage.moc"
