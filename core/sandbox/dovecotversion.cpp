#include "sandbox/dovecotversion.h"

#include "node/dovecotversion.h"

#include <QProcess>

using namespace Qt::StringLiterals;

namespace mm::sandbox {

Result<DovecotVersion> DovecotVersion::parse(const QByteArray &versionOutput)
{
    const auto parsed = node::DovecotVersion::parse(versionOutput.toStdString());
    if (!parsed || parsed->numbers.size() < 2)
        return fail(ErrorCode::InvalidData,
                    "not a Dovecot version: \"" +
                        QString::fromLatin1(versionOutput.trimmed()).section(u' ', 0, 0).toStdString() +
                        '"');
    DovecotVersion version;
    version.major = parsed->major();
    version.minor = parsed->minor();
    version.patch = parsed->number(2);
    version.text = QString::fromStdString(parsed->word);
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
