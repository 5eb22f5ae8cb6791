#include "cluster/workflows/deploydovecotprefix.h"

#include "cluster/session/remotecalls.h"
#include "remote/sshsession.h"

#include <QFileInfo>

namespace mm::cluster {

std::optional<Error> DeployDovecotPrefix::checkOptions() const
{
    if (options().prefix.startsWith(u'/'))
        return std::nullopt;
    return Error{ErrorCode::BadRequest,
                 QStringLiteral("--prefix %1 must be an absolute path on the nodes").arg(options().prefix).toStdString(),
                 {}};
}

QJsonObject DeployDovecotPrefix::describeTarget() const
{
    return {{QStringLiteral("prefix"), options().prefix}};
}

void DeployDovecotPrefix::detectTarget(int position, Done done)
{
    const QString binary = targetPrefix() + QStringLiteral("/sbin/dovecot");
    runOn(position, {binary, QStringLiteral("--version")}, {},
          [this, position, binary, done](const Result<remote::SshCommand::Output> &version) {
              if (!version) {
                  done(fail(ErrorCode::Unsupported, QStringLiteral("%1 holds no Dovecot this node can run: %2")
                                                        .arg(options().prefix, QString::fromStdString(version.error().message))
                                                        .toStdString()));
                  return;
              }
              DeployNodeState &node = state(position);
              node.target = DovecotVersion::parse(QString::fromUtf8(version->standardOutput));
              if (!node.target || !node.target->isMailmeshBuild()) {
                  done(fail(ErrorCode::Unsupported,
                            QStringLiteral("%1 is \"%2\", not the cur/-only build (its version carries +mailmesh); build "
                                           "it with installers/dovecot/build-prefix.sh")
                                .arg(binary, QString::fromUtf8(version->standardOutput).trimmed())
                                .toStdString()));
                  return;
              }
              details(position).insert(QStringLiteral("targetVersion"), node.target->text);
              if (node.current && DovecotVersion::compare(*node.target, *node.current) < 0) {
                  details(position).insert(QStringLiteral("downgrade"), true);
                  if (!options().allowDowngrade) {
                      done(fail(ErrorCode::Unsupported,
                                QStringLiteral("%1 is older than the running %2: a downgrade gives up the security fixes "
                                               "of the newer release, and Dovecot may not read index files a newer "
                                               "version wrote (they are rebuilt, slowly, and clients may resync); pass "
                                               "--allow-downgrade if you mean it")
                                    .arg(node.target->numeric(), node.current->numeric())
                                    .toStdString()));
                      return;
                  }
              }
              // build-prefix.sh records when it had to build from an older Debian revision than
              // the one installed: the same upstream numbers, fewer fixes.
              runOn(position,
                    {QStringLiteral("sh"), QStringLiteral("-c"),
                     QStringLiteral("cat \"$1/MAILMESH-BUILD-INFO\" 2>/dev/null; true"), QStringLiteral("sh"),
                     options().prefix},
                    {}, [this, position, done](const Result<remote::SshCommand::Output> &info) {
                        if (info) {
                            for (const QByteArray &line : info->standardOutput.split('\n'))
                                if (line.startsWith("warning="))
                                    details(position).insert(QStringLiteral("buildWarning"), QString::fromUtf8(line.mid(8)));
                        }
                        decideRoot(position, [done] { done({}); });
                    });
          });
}

void DeployDovecotPrefix::decideRoot(int position, std::function<void()> next)
{
    DeployNodeState &node = state(position);
    if (ssh(position)->loginUser() == QLatin1String("root")) {
        node.asRoot = false;
        next();
        return;
    }
    const QString confD = QFileInfo(node.before.configFile).path() + QStringLiteral("/conf.d");
    runNodeCommand(ssh(position), {QStringLiteral("test"), QStringLiteral("-w"), confD}, {}, context(),
                   [this, position, next = std::move(next)](const Result<remote::SshCommand::Output> &writable) {
                       if (!sessionOpen())
                           return;
                       state(position).asRoot = !writable;
                       details(position).insert(QStringLiteral("asRoot"), state(position).asRoot);
                       next();
                   });
}

bool DeployDovecotPrefix::runsTheTarget(int position) const
{
    const DeployNodeState &node = state(position);
    return node.current && node.current->text == node.target->text;
}

DovecotInstallStrategy::Updates DeployDovecotPrefix::checkUpdates() const
{
    // Only package installs have an apt candidate to compare with the held build.
    return {true, tr("prefix builds are not managed by apt: nothing to compare; rebuild the prefix with "
                     "installers/dovecot/build-prefix.sh when Debian publishes a Dovecot fix")};
}

} // namespace mm::cluster
