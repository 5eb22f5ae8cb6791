#include "ui/notificationsettingsdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QSettings>
#include <QSpinBox>

namespace mm::ui {

namespace {

const QString kStall = QStringLiteral("notifications/syncStallMinutes");
const QString kDuplicates = QStringLiteral("notifications/duplicates");
const QString kUidConflicts = QStringLiteral("notifications/uidConflicts");
const QString kClassic = QStringLiteral("notifications/classicFolders");

} // namespace

NotificationSettingsDialog::NotificationSettingsDialog(QWidget *parent)
    : QDialog(parent)
    , m_stallMinutes(new QSpinBox(this))
    , m_duplicates(new QCheckBox(tr("New &duplicates"), this))
    , m_uidConflicts(new QCheckBox(tr("New &UID conflicts"), this))
    , m_classicFolders(new QCheckBox(tr("A new &classic folder needs converting"), this))
{
    setWindowTitle(tr("Notifications"));
    const cluster::ClusterAlerts::Thresholds current = load();
    m_stallMinutes->setRange(1, 24 * 60);
    m_stallMinutes->setSuffix(tr(" min"));
    m_stallMinutes->setValue(current.syncStallSeconds / 60);
    m_stallMinutes->setToolTip(tr("A peer below 100% for this long is reported as a stall"));
    m_duplicates->setChecked(current.duplicates);
    m_uidConflicts->setChecked(current.uidConflicts);
    m_classicFolders->setChecked(current.classicFolders);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        save(thresholds());
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QFormLayout(this);
    layout->addRow(tr("A node going down always notifies."), static_cast<QWidget *>(nullptr));
    layout->addRow(tr("Sync &stalled after:"), m_stallMinutes);
    layout->addRow(m_duplicates);
    layout->addRow(m_uidConflicts);
    layout->addRow(m_classicFolders);
    layout->addRow(buttons);
}

cluster::ClusterAlerts::Thresholds NotificationSettingsDialog::load()
{
    const QSettings settings;
    cluster::ClusterAlerts::Thresholds thresholds;
    thresholds.syncStallSeconds = settings.value(kStall, thresholds.syncStallSeconds / 60).toInt() * 60;
    thresholds.duplicates = settings.value(kDuplicates, thresholds.duplicates).toBool();
    thresholds.uidConflicts = settings.value(kUidConflicts, thresholds.uidConflicts).toBool();
    thresholds.classicFolders = settings.value(kClassic, thresholds.classicFolders).toBool();
    return thresholds;
}

void NotificationSettingsDialog::save(const cluster::ClusterAlerts::Thresholds &thresholds)
{
    QSettings settings;
    settings.setValue(kStall, thresholds.syncStallSeconds / 60);
    settings.setValue(kDuplicates, thresholds.duplicates);
    settings.setValue(kUidConflicts, thresholds.uidConflicts);
    settings.setValue(kClassic, thresholds.classicFolders);
}

cluster::ClusterAlerts::Thresholds NotificationSettingsDialog::thresholds() const
{
    cluster::ClusterAlerts::Thresholds thresholds;
    thresholds.syncStallSeconds = m_stallMinutes->value() * 60;
    thresholds.duplicates = m_duplicates->isChecked();
    thresholds.uidConflicts = m_uidConflicts->isChecked();
    thresholds.classicFolders = m_classicFolders->isChecked();
    return thresholds;
}

} // namespace mm::ui
