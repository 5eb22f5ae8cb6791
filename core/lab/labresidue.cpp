#include "lab/labresidue.h"

#include "lab/lab.h"
#include "lab/labcgroups.h"
#include "lab/labmounts.h"
#include "lab/labnetwork.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace mm::lab {

bool LabResidue::isEmpty() const
{
    return !registered && namespaces.isEmpty() && cgroups.isEmpty() && mounts.isEmpty() &&
           processes.isEmpty();
}

QString LabResidue::describe() const
{
    QStringList parts;
    if (registered)
        parts << u"registered in %1/%2.json (dir %3)"_s.arg(Lab::registryDir(), tag, dir);
    if (!namespaces.isEmpty())
        parts << u"namespaces %1"_s.arg(namespaces.join(u' '));
    if (!cgroups.isEmpty())
        parts << u"cgroups %1"_s.arg(cgroups.join(u' '));
    if (!mounts.isEmpty())
        parts << u"mounts %1"_s.arg(mounts.join(u' '));
    if (!processes.isEmpty()) {
        QStringList pids;
        for (qint64 pid : processes)
            pids << QString::number(pid);
        parts << u"processes %1"_s.arg(pids.join(u' '));
    }
    return u"lab %1: %2"_s.arg(tag, parts.join(u"; "_s));
}

QList<LabResidue> LabResidue::onThisMachine()
{
    QStringList tags;
    for (const QString &file : QDir(Lab::registryDir()).entryList({u"*.json"_s}, QDir::Files))
        tags << file.chopped(5);
    for (const QString &name : LabNetwork::namespacesOf({}))
        if (const QString tag = LabNetwork::tagOf(name); !tag.isEmpty() && !tags.contains(tag))
            tags << tag;
    for (const QString &tag : labcgroups::tags())
        if (!tags.contains(tag))
            tags << tag;

    QList<LabResidue> residues;
    for (const QString &tag : std::as_const(tags)) {
        LabResidue residue;
        residue.tag = tag;
        QFile registration(Lab::registryDir() + u'/' + tag + u".json"_s);
        if (registration.open(QIODevice::ReadOnly)) {
            const QJsonObject object = QJsonDocument::fromJson(registration.readAll()).object();
            residue.registered = true;
            residue.dir = object.value(u"dir"_s).toString();
            residue.run = object.value(u"run"_s).toString();
        }
        residue.namespaces = LabNetwork::namespacesOf(tag);
        for (const QString &group : labcgroups::labGroups(tag))
            if (QFileInfo::exists(group))
                residue.cgroups << group;
        residue.processes = labcgroups::processesIn(residue.cgroups);
        if (!residue.dir.isEmpty())
            residue.mounts = labmounts::mountsUnder(residue.dir + u"/nodes"_s);
        residues << residue;
    }
    return residues;
}

} // namespace mm::lab
