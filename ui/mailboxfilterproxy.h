#pragma once

#include <QSortFilterProxyModel>

namespace mm::ui {

// Filters the mailboxes table by name and, optionally, to the mailboxes whose counts differ.
class MailboxFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setOnlyDisagreeing(bool only);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    bool m_onlyDisagreeing = false;
};

} // namespace mm::ui
