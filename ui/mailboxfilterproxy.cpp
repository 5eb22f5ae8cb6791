#include "ui/mailboxfilterproxy.h"

#include "ui/mailboxesmodel.h"

namespace mm::ui {

void MailboxFilterProxy::setOnlyDisagreeing(bool only)
{
    if (only == m_onlyDisagreeing)
        return;
    m_onlyDisagreeing = only;
    invalidateRowsFilter();
}

bool MailboxFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex name = sourceModel()->index(sourceRow, 0, sourceParent);
    if (m_onlyDisagreeing && !name.data(MailboxesModel::DisagreesRole).toBool())
        return false;
    return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}

} // namespace mm::ui
