#pragma once

#include <QMainWindow>

namespace mm::ui {

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);
};

} // namespace mm::ui
