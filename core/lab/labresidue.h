#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace mm::lab {

// What a lab leaves on this machine while it is up, or after a teardown that failed or never
// ran: its registration, network namespaces, cgroups, overlay mounts and the processes in its
// cgroups. The end-of-run check (tst_lableftovers) and `lab down` read it.
struct LabResidue
{
    QString tag;
    QString dir; // from the registration; empty without one
    QString run; // MAILMESH_SANDBOX_RUN of the process that made the lab
    bool registered = false;
    QStringList namespaces;
    QStringList cgroups;
    QStringList mounts;
    QList<qint64> processes;

    bool isEmpty() const;
    QString describe() const;

    // One entry per lab tag found anywhere: registrations, namespaces or cgroups.
    static QList<LabResidue> onThisMachine();
};

} // namespace mm::lab
