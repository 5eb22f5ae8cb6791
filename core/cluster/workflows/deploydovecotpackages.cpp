#include "cluster/workflows/deploydovecotpackages.h"

#include "cluster/dovecot/aptpolicy.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTimer>

#include <algorithm>
#include <memory>

namespace mm::cluster {

namespace {

// "dovecot-core" → "2.3.19.1+dfsg1-2.1+deb12u6+mailmesh5 (held)", as the report shows them.
QJsonObject describeInstalled(const dovecotpackages::NodePackages &packages, const QStringList &names)
{
    QJsonObject described;
    for (const QString &package : names)
        described.insert(package, packages.installed.value(package)
                                      + (packages.held.contains(package) ? QStringLiteral(" (held)") : QString()));
    return described;
}

} // namespace

DeployDovecotPackages::PackageState &DeployDovecotPackages::packages(int position)
{
    if (m_nodes.size() <= std::size_t(position))
        m_nodes.resize(std::size_t(position) + 1);
    return m_nodes[std::size_t(position)];
}

const DeployDovecotPackages::PackageState &DeployDovecotPackages::packages(int position) const
{
    static const PackageState none;
    return std::size_t(position) < m_nodes.size() ? m_nodes[std::size_t(position)] : none;
}

QJsonObject DeployDovecotPackages::describeTarget() const
{
    return {{QStringLiteral("packages"), options().packagesDir}};
}

void DeployDovecotPackages::detectTarget(int position, Done done)
{
    const DeployNodeState &node = state(position);
    const QDir dir(options().packagesDir);
    const QStringList files = dir.entryList({QStringLiteral("*.deb")}, QDir::Files);
    const auto selection = dovecotpackages::select(files, node.osId, node.osVersionId, node.architecture);
    if (!selection) {
        done(fail(selection.error()));
        return;
    }
    const QString coreFile = *std::find_if(selection->files.begin(), selection->files.end(), [](const QString &file) {
        return dovecotpackages::packageOf(file) == QLatin1String("dovecot-core");
    });
    if (!m_controlHeads.contains(coreFile)) {
        const Result<QByteArray> head = dovecotpackages::controlHead(dir.filePath(coreFile));
        if (!head) {
            done(fail(head.error()));
            return;
        }
        m_controlHeads.insert(coreFile, *head);
    }
    remote::SshCommand::Options control;
    control.input = m_controlHeads.value(coreFile);
    // File names leave the epoch out ("1:"): the version that counts is the one in the package.
    runOn(position, {QStringLiteral("dpkg-deb"), QStringLiteral("-f"), QStringLiteral("/dev/stdin"), QStringLiteral("Version")},
          control, [this, position, done, selection = *selection, coreFile](const Result<remote::SshCommand::Output> &read) {
              if (!read) {
                  done(fail(ErrorCode::Unsupported, QStringLiteral("the node's dpkg-deb cannot read %1: %2")
                                                        .arg(coreFile, QString::fromStdString(read.error().message))
                                                        .toStdString()));
                  return;
              }
              const QString text = QString::fromUtf8(read->standardOutput).trimmed();
              const std::optional<DebianVersion> version = DebianVersion::parse(text);
              if (!version || !version->isMailmeshBuild() || version->toString().section(u':', -1) != selection.version) {
                  done(fail(ErrorCode::InvalidData,
                            QStringLiteral("%1 says it is version \"%2\", which does not match its file name")
                                .arg(coreFile, text)
                                .toStdString()));
                  return;
              }
              planInstall(position, selection, *version, done);
          });
}

// What dpkg has on the node now, and what installing the selection there means.
void DeployDovecotPackages::planInstall(int position, const dovecotpackages::Selection &selection,
                                        const DebianVersion &version, Done done)
{
    runOn(position, dovecotpackages::queryInstalledCommand(), {},
          [this, position, done, selection, version](const Result<remote::SshCommand::Output> &query) {
              if (!query) {
                  done(fail(query.error()));
                  return;
              }
              PackageState &node = packages(position);
              QJsonObject &details = this->details(position);
              node.before = dovecotpackages::NodePackages::parse(query->standardOutput);
              details.insert(QStringLiteral("packagesBefore"), describeInstalled(node.before, node.before.installed.keys()));
              const auto plan = dovecotpackages::planInstall(selection.files, version, node.before);
              if (!plan) {
                  done(fail(plan.error()));
                  return;
              }
              node.plan = *plan;
              details.insert(QStringLiteral("packages"), QJsonArray::fromStringList(plan->files));
              details.insert(QStringLiteral("packageVersion"), version.toString());
              details.insert(QStringLiteral("packagesUnchanged"), plan->unchanged);
              // What `dovecot --version` of this build prints, less the git id.
              const QString upstream = version.upstream();
              std::optional<DovecotVersion> &target = state(position).target;
              target = DovecotVersion::parse(upstream.left(upstream.indexOf(u'+')) + QStringLiteral("+mailmesh")
                                             + version.toString().section(QStringLiteral("+mailmesh"), 1));
              details.insert(QStringLiteral("targetVersion"), target ? target->text : QString());
              if (plan->downgrade) {
                  details.insert(QStringLiteral("downgrade"), true);
                  if (!options().allowDowngrade) {
                      done(fail(ErrorCode::Unsupported, dovecotpackages::downgradeRefusal(*plan).toStdString()));
                      return;
                  }
              }
              readDistributionVersion(position, [done](const Status &) { done({}); });
          });
}

// Whether the node's distribution offers a newer Dovecot than the patched build: the fixes
// in it are not in our packages until the patch is rebuilt on top of it. A node whose apt
// cannot answer is reported, never failed for it.
void DeployDovecotPackages::readDistributionVersion(int position, Done done)
{
    runOn(position, {QStringLiteral("env"), QStringLiteral("LC_ALL=C"), QStringLiteral("apt-cache"), QStringLiteral("policy"),
                     QStringLiteral("dovecot-core")},
          {}, [this, position, done](const Result<remote::SshCommand::Output> &read) {
              PackageState &node = packages(position);
              QJsonObject &details = this->details(position);
              const std::optional<AptPolicy> policy = read ? AptPolicy::parse(read->standardOutput) : std::nullopt;
              if (!policy) {
                  details.insert(QStringLiteral("distributionVersion"),
                                 QStringLiteral("unknown: %1").arg(read ? QStringLiteral("unreadable apt-cache policy output")
                                                                        : QString::fromStdString(read.error().message)));
                  done({});
                  return;
              }
              const std::optional<DebianVersion> offered = policy->newestOffered();
              details.insert(QStringLiteral("distributionVersion"), offered ? offered->toString() : QString());
              node.newerDistributionVersion = newerDistributionVersion(*policy, node.plan->version);
              details.insert(QStringLiteral("securityUpdate"),
                             node.newerDistributionVersion ? node.newerDistributionVersion->toString() : QString());
              if (node.newerDistributionVersion)
                  addWarning(tr("%1: a security update is waiting (%2; the packages are built from %3); rebuild the patch "
                                "with installers/dovecot/build-debs.sh")
                                 .arg(this->node(position).id, node.newerDistributionVersion->toString(),
                                      node.plan->version.withoutMailmeshSuffix().toString()));
              done({});
          });
}

// Packages keep their path across versions: the build is told by what dpkg has installed and
// by the running master's binary not being replaced since.
bool DeployDovecotPackages::runsTheTarget(int position) const
{
    const DeployNodeState &node = state(position);
    return packages(position).plan->unchanged && !node.runningReplaced && node.current && node.current->isMailmeshBuild()
           && node.current->numeric() == node.target->numeric();
}

DovecotInstallStrategy::Updates DeployDovecotPackages::checkUpdates() const
{
    // Read at detect, before anything changed: the repositories do not move during a run.
    QStringList waiting;
    for (int position = 0; position < nodeCount(); ++position)
        if (const std::optional<DebianVersion> &newer = packages(position).newerDistributionVersion)
            waiting << tr("%1: %2").arg(node(position).id, newer->toString());
    return {false, waiting.isEmpty()
                       ? tr("no node's repositories offer a newer Dovecot than the held build (as of their last apt-get "
                            "update)")
                       : tr("a security update is waiting (%1); rebuild the patch with installers/dovecot/build-debs.sh")
                             .arg(waiting.join(QStringLiteral("; ")))};
}

void DeployDovecotPackages::install(int position, Done done)
{
    stagePackages(position, [this, position, done](const Status &staged) {
        if (!staged) {
            removeStagingDir(position, [done, staged](const Status &) { done(staged); });
            return;
        }
        PackageState &node = packages(position);
        node.touched = true;
        runOn(position, dovecotpackages::installCommand(node.stagingDir, *node.plan, node.before), asRoot(),
              [this, position, done](const Result<remote::SshCommand::Output> &installed) {
                  removeStagingDir(position, [this, position, done, installed](const Status &) {
                      if (!installed) {
                          done(fail(installed.error()));
                          return;
                      }
                      runOn(position, QStringList{QStringLiteral("apt-mark"), QStringLiteral("hold")} + packages(position).plan->packages,
                            asRoot(), [this, position, done](const Result<remote::SshCommand::Output> &held) {
                                if (!held) {
                                    done(fail(held.error()));
                                    return;
                                }
                                checkInstalled(position, done);
                            });
                  });
              });
    });
}

// Uploads the plan's files into a fresh private directory on the node and checks that what
// arrived is byte for byte what was sent.
void DeployDovecotPackages::stagePackages(int position, Done done)
{
    runOn(position, {QStringLiteral("mktemp"), QStringLiteral("-d"), QStringLiteral("/tmp/mailmesh-debs.XXXXXXXX")}, asRoot(),
          [this, position, done](const Result<remote::SshCommand::Output> &made) {
              if (!made) {
                  done(fail(made.error()));
                  return;
              }
              const QString dir = QString::fromUtf8(made->standardOutput).trimmed();
              if (!dir.startsWith(QLatin1String("/tmp/mailmesh-debs.")) || dir.contains(u'\n')) {
                  done(fail(ErrorCode::InvalidData, QStringLiteral("mktemp answered \"%1\"").arg(dir).toStdString()));
                  return;
              }
              packages(position).stagingDir = dir;
              auto hashes = std::make_shared<QMap<QString, QByteArray>>();
              auto upload = std::make_shared<std::function<void(qsizetype)>>();
              *upload = [this, position, done, dir, hashes, upload](qsizetype at) {
                  const QStringList files = packages(position).plan->files;
                  if (at == files.size()) {
                      QTimer::singleShot(0, context(), [upload] { *upload = nullptr; });
                      QStringList argv{QStringLiteral("sha256sum"), QStringLiteral("--")};
                      for (const QString &file : files)
                          argv << dir + u'/' + file;
                      runOn(position, argv, asRoot(), [done, dir, hashes](const Result<remote::SshCommand::Output> &sums) {
                          if (!sums) {
                              done(fail(sums.error()));
                              return;
                          }
                          QStringList mismatched;
                          for (auto it = hashes->cbegin(); it != hashes->cend(); ++it) {
                              const QByteArray expected = it.value() + "  " + (dir + u'/' + it.key()).toUtf8();
                              if (!sums->standardOutput.split('\n').contains(expected))
                                  mismatched << it.key();
                          }
                          done(mismatched.isEmpty()
                                   ? Status{}
                                   : fail(ErrorCode::IoError,
                                          QStringLiteral("the upload of %1 arrived damaged (sha256 differs)")
                                              .arg(mismatched.join(QStringLiteral(", ")))
                                              .toStdString()));
                      });
                      return;
                  }
                  QFile file(QDir(options().packagesDir).filePath(files[at]));
                  if (!file.open(QIODevice::ReadOnly)) {
                      *upload = nullptr;
                      done(fail(ErrorCode::IoError, file.errorString().toStdString(), file.fileName().toStdString()));
                      return;
                  }
                  QByteArray content = file.readAll();
                  hashes->insert(files[at], QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
                  reportProgress(position, at, files.size(), tr("uploading %1").arg(files[at]));
                  runOn(position,
                        {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("umask 077 && cat > \"$1\""),
                         QStringLiteral("sh"), dir + u'/' + files[at]},
                        asRoot(std::move(content)), [done, at, upload](const Result<remote::SshCommand::Output> &written) {
                            if (!written) {
                                *upload = nullptr;
                                done(fail(written.error()));
                                return;
                            }
                            (*upload)(at + 1);
                        });
              };
              (*upload)(0);
          });
}

void DeployDovecotPackages::removeStagingDir(int position, Done done)
{
    const QString dir = packages(position).stagingDir;
    if (dir.isEmpty() || !sessionOpen()) {
        done({});
        return;
    }
    runOn(position, {QStringLiteral("rm"), QStringLiteral("-rf"), QStringLiteral("--"), dir}, asRoot(),
          [this, position, done](const Result<remote::SshCommand::Output> &removed) {
              if (removed)
                  packages(position).stagingDir.clear();
              done(removed ? Status{} : fail(removed.error()));
          });
}

// dpkg must now hold the plan's packages at the target version, on hold.
void DeployDovecotPackages::checkInstalled(int position, Done done)
{
    runOn(position, dovecotpackages::queryInstalledCommand(), {},
          [this, position, done](const Result<remote::SshCommand::Output> &query) {
              if (!query) {
                  done(fail(query.error()));
                  return;
              }
              const PackageState &node = packages(position);
              const dovecotpackages::NodePackages now = dovecotpackages::NodePackages::parse(query->standardOutput);
              const QJsonObject installed = describeInstalled(now, node.plan->packages);
              QStringList wrong;
              for (const QString &package : std::as_const(node.plan->packages)) {
                  const std::optional<DebianVersion> version = DebianVersion::parse(now.installed.value(package));
                  if (!version || !(*version == node.plan->version) || !now.held.contains(package))
                      wrong << QStringLiteral("%1 is %2").arg(package, installed.value(package).toString());
              }
              details(position).insert(QStringLiteral("packagesInstalled"), installed);
              done(wrong.isEmpty() ? Status{}
                                   : fail(ErrorCode::Conflict, QStringLiteral("after the install, %1 (expected %2, held)")
                                                                   .arg(wrong.join(QStringLiteral(", ")), node.plan->version.toString())
                                                                   .toStdString()));
          });
}

void DeployDovecotPackages::rollBackInstall(int position, std::function<void(const Status &, const QString &)> done)
{
    if (!packages(position).touched) {
        done({}, {});
        return;
    }
    restorePackages(position, [this, position, done](const Status &restored) {
        if (!restored) {
            done(restored, {});
            return;
        }
        const PackageState &node = packages(position);
        QStringList versions;
        for (const QString &package : node.plan->packages)
            versions << (node.before.installed.contains(package) ? package + u'=' + node.before.installed.value(package)
                                                                 : package + QStringLiteral(" removed"));
        done({}, tr("packages back to %1").arg(versions.join(QStringLiteral(", "))));
    });
}

// Back to the versions and holds the node had before this run, then checked with dpkg-query.
void DeployDovecotPackages::restorePackages(int position, Done done)
{
    removeStagingDir(position, [this, position, done](const Status &) {
        if (!sessionOpen())
            return;
        const PackageState &node = packages(position);
        QList<QStringList> commands;
        const QList<QStringList> holds = dovecotpackages::restoreHoldCommands(node.before, *node.plan);
        for (const QStringList &command : holds)
            if (command.value(1) == QLatin1String("unhold"))
                commands << command;
        if (const QStringList restore = dovecotpackages::restoreCommand(node.before, *node.plan); !restore.isEmpty())
            commands << restore;
        for (const QStringList &command : holds)
            if (command.value(1) == QLatin1String("hold"))
                commands << command;
        const auto manual = [this, position] {
            const PackageState &node = packages(position);
            return dovecotpackages::manualRestoreAdvice(node.before, *node.plan);
        };
        runAllOn(position, commands, asRoot(), [this, position, done, manual](const Status &ran) {
            if (!ran) {
                done(fail(ErrorCode::IoError, QStringLiteral("the previous packages could not be put back (%1); do it by hand, %2")
                                                  .arg(QString::fromStdString(ran.error().message), manual())
                                                  .toStdString()));
                return;
            }
            runOn(position, dovecotpackages::queryInstalledCommand(), {},
                  [this, position, done, manual](const Result<remote::SshCommand::Output> &query) {
                      const PackageState &node = packages(position);
                      const dovecotpackages::NodePackages now =
                          query ? dovecotpackages::NodePackages::parse(query->standardOutput) : dovecotpackages::NodePackages{};
                      QStringList differing;
                      for (const QString &package : node.plan->packages)
                          if (now.installed.value(package) != node.before.installed.value(package)
                              || now.held.contains(package) != node.before.held.contains(package))
                              differing << package;
                      if (!query || !differing.isEmpty()) {
                          done(fail(ErrorCode::Conflict, QStringLiteral("after putting the previous packages back, %1 still "
                                                                        "differ; do it by hand, %2")
                                                             .arg(query ? differing.join(QStringLiteral(", "))
                                                                        : QString::fromStdString(query.error().message),
                                                                  manual())
                                                             .toStdString()));
                          return;
                      }
                      done({});
                  });
        });
    });
}

} // namespace mm::cluster
