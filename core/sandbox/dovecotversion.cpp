#include "sandbox/dovecotversion.h"

#include <QProcess>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace mm::sandbox {

Result<DovecotVersion> DovecotVersion::parse(const QByteArray &versionOutput)
{
    const QString firstWord = QString::fromLatin1(versionOutput.trimmed()).section(u' ', 0, 0);
    static const QRegularExpression release(u"^(\\d+)\\.(\\d+)(?:\\.(\\d+))?"_s);
    const QRegularExpressionMatch match = release.match(firstWord);
    if (!match.hasMatch())
        return fail(ErrorCode::InvalidData,
                    "not a Dovecot version: \"" + firstWord.toStdString() + '"');
    DovecotVersion version;
    version.major = match.captured(1).toInt();
    version.minor = match.captured(2).toInt();
    version.patch = match.captured(3).toInt();
    version.text = firstWord;
    return version;
}

Result<DovecotVersion> DovecotVersion::ofPrefix(const QString &prefix)
{
    const QString binary = prefix + u"/sbin/dovecot"_s;
    QProcess process;
    process.start(binary, {u"--version"_s});
    if (!process.waitForFinished(15000) || process.exitStatus() != QProcess::NormalExit ||
        process.exitCode() != 0) {
        process.kill();
        process.waitForFinished(3000);
        return fail(ErrorCode::NotFound,
                    "cannot run dovecot --version: " + process.errorString().toStdString(),
                    binary.toStdString());
    }
    return parse(process.readAllStandardOutput());
}

} // namespace mm::sandbox
