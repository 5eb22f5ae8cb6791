#pragma once

#include "sandbox/demotraffic.h"

#include <QPointer>
#include <QToolBar>

class QAction;
class QLabel;

namespace mm::app {

class DemoCluster;

// The demo's own toolbar: a switch for live traffic on every node and what it did, the
// duplicates it made before and after the migration side by side. While a migration dialog is
// open the traffic is held, as delivery is on a real cluster: a migration wants the nodes in
// sync and quiet.
class DemoTrafficBar : public QToolBar
{
    Q_OBJECT

public:
    explicit DemoTrafficBar(DemoCluster *demo, QWidget *parent = nullptr);

    QAction *trafficAction() const { return m_switch; }
    QLabel *figuresLabel() const { return m_figures; }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void showFigures();
    void hold(QWidget *migrationDialog);

    DemoCluster *m_demo;
    QAction *m_switch;
    QLabel *m_figures;
    QPointer<QWidget> m_holdingDialog;
    sandbox::DemoTraffic::Figures m_last;
    QString m_problem;
};

} // namespace mm::app
