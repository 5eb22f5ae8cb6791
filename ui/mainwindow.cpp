#include "ui/mainwindow.h"

#include <QLabel>
#include <QStatusBar>

namespace mm::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
{
    setWindowTitle(tr("Mailmesh"));
    auto *emptyState = new QLabel(tr("<h2>No cluster open</h2>"
                                     "<p>Start with <b>mailmesh --demo</b> to explore a local "
                                     "three-node cluster.</p>"),
                                  this);
    emptyState->setAlignment(Qt::AlignCenter);
    setCentralWidget(emptyState);
    statusBar()->showMessage(tr("Ready"));
    resize(1000, 680);
}

} // namespace mm::ui
