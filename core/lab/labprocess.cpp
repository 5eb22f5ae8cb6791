#include "lab/labprocess.h"

#include <QProcess>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

namespace mm::lab {

QString findProgram(const QString &name)
{
    if (name.startsWith(u'/'))
        return name;
    QString found = QStandardPaths::findExecutable(name);
    if (found.isEmpty())
        found = QStandardPaths::findExecutable(
            name, {u"/usr/sbin"_s, u"/usr/local/sbin"_s, u"/sbin"_s, u"/usr/bin"_s, u"/bin"_s});
    return found;
}

Result<ProgramOutput> runProgramAllowingFailure(const ProgramRun &run)
{
    const QString program = findProgram(run.program);
    const std::string commandLine = (run.program + u' ' + run.arguments.join(u' ')).toStdString();
    if (program.isEmpty())
        return fail(ErrorCode::NotFound, run.program.toStdString() + " is not installed");
    QProcess process;
    process.setProgram(program);
    process.setArguments(run.arguments);
    // Tools run in the C locale, so that what is parsed out of their output does not move.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"LC_ALL"_s, u"C.UTF-8"_s);
    process.setProcessEnvironment(environment);
    process.start();
    if (!process.waitForStarted(10'000))
        return fail(ErrorCode::IoError,
                    "cannot start " + commandLine + ": " + process.errorString().toStdString());
    if (!run.input.isEmpty())
        process.write(run.input);
    process.closeWriteChannel();
    if (!process.waitForFinished(run.timeoutMs)) {
        process.kill();
        process.waitForFinished(5'000);
        return fail(ErrorCode::Timeout, commandLine + " did not finish within " +
                                            std::to_string(run.timeoutMs / 1000) + " s");
    }
    ProgramOutput output;
    output.standardOutput = process.readAllStandardOutput();
    output.standardError = process.readAllStandardError();
    if (process.exitStatus() != QProcess::NormalExit)
        return fail(ErrorCode::IoError, commandLine + " crashed");
    output.exitCode = process.exitCode();
    return output;
}

Result<ProgramOutput> runProgram(const ProgramRun &run)
{
    Result<ProgramOutput> output = runProgramAllowingFailure(run);
    if (!output || output->exitCode == 0)
        return output;
    const QList<QByteArray> lines = output->standardError.trimmed().split('\n');
    const QByteArray tail = lines.mid(std::max<qsizetype>(0, lines.size() - 5)).join("\n");
    return fail(ErrorCode::IoError,
                (run.program + u' ' + run.arguments.join(u' ')).toStdString() + " exited with " +
                    std::to_string(output->exitCode) +
                    (tail.isEmpty() ? std::string() : ": " + tail.toStdString()));
}

} // namespace mm::lab
