#pragma once

#include "cluster/monitor/clusteralerts.h"

#include <QDialog>

class QCheckBox;
class QSpinBox;

namespace mm::ui {

// When the tray speaks up: the sync-stall threshold and which findings notify. Kept in
// QSettings, so every window and every start uses the same.
class NotificationSettingsDialog : public QDialog
{
    Q_OBJECT

public:
    explicit NotificationSettingsDialog(QWidget *parent = nullptr);

    static cluster::ClusterAlerts::Thresholds load();
    static void save(const cluster::ClusterAlerts::Thresholds &thresholds);

    cluster::ClusterAlerts::Thresholds thresholds() const;

private:
    QSpinBox *m_stallMinutes;
    QCheckBox *m_duplicates;
    QCheckBox *m_uidConflicts;
    QCheckBox *m_classicFolders;
};

} // namespace mm::ui
