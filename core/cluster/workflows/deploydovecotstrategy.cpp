#include "cluster/workflows/deploydovecotstrategy.h"

#include "cluster/session/clustersession.h"

namespace mm::cluster {

remote::SshSession *DovecotInstallStrategy::ssh(int position) const
{
    return m_workflow.m_session->ssh(position);
}

void DovecotInstallStrategy::reportProgress(int position, qint64 done, qint64 total, const QString &message) const
{
    m_workflow.reportProgress({{}, node(position).id, done, total, -1, message});
}

} // namespace mm::cluster
