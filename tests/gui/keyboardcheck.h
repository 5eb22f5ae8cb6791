#pragma once

// Checks every window and dialog test runs: a keyboard user reaches every control with Tab,
// no control traps Tab, and every table column explains itself in its header's tooltip.

#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QAbstractButton>
#include <QApplication>
#include <QComboBox>
#include <QHeaderView>
#include <QRadioButton>
#include <QSet>
#include <QStringList>
#include <QTest>
#include <QWidget>

namespace mm::test {

inline QString describe(const QWidget *widget)
{
    QString text = QLatin1String(widget->metaObject()->className());
    if (!widget->objectName().isEmpty())
        text += QLatin1Char('#') + widget->objectName();
    if (const auto *button = qobject_cast<const QAbstractButton *>(widget))
        text += QStringLiteral(" \"%1\"").arg(button->text());
    return text;
}

// The widgets a keyboard user must be able to reach with Tab: visible, enabled, and taking
// Tab focus. The line edit inside a spin or combo box is part of its box.
inline QList<QWidget *> tabStops(QWidget *window)
{
    QList<QWidget *> stops;
    for (QWidget *widget : window->findChildren<QWidget *>()) {
        if (!widget->isVisibleTo(window) || !widget->isEnabled() || !(widget->focusPolicy() & Qt::TabFocus)
            || widget->focusProxy())
            continue;
        const QWidget *parent = widget->parentWidget();
        if (qobject_cast<const QAbstractSpinBox *>(parent) || qobject_cast<const QComboBox *>(parent))
            continue;
        stops << widget;
    }
    return stops;
}

// Shows and activates the window, then presses Tab twice round its focus chain; returns the
// tab stops focus never reached (empty when the keyboard gets everywhere).
inline QStringList unreachableByTab(QWidget *window)
{
    window->show();
    window->activateWindow();
    if (!QTest::qWaitForWindowActive(window))
        return {QStringLiteral("the window never became active")};
    const QList<QWidget *> stops = tabStops(window);
    if (stops.isEmpty())
        return {};
    if (!QApplication::focusWidget())
        stops.first()->setFocus(Qt::TabFocusReason);
    QSet<QWidget *> reached;
    for (int press = 0; press < 2 * stops.size() + 2; ++press) {
        QWidget *focused = QApplication::focusWidget();
        if (focused)
            reached.insert(focused);
        QTest::keyClick(focused ? focused : window, Qt::Key_Tab);
    }
    // Tab enters a group of exclusive radio buttons at its checked one, and the arrow keys move
    // inside it: one button of the group reached means the group is.
    const auto radioGroupReached = [&reached](const QWidget *stop) {
        const auto *radio = qobject_cast<const QRadioButton *>(stop);
        if (!radio || !radio->autoExclusive())
            return false;
        for (QWidget *other : std::as_const(reached)) {
            const auto *otherRadio = qobject_cast<const QRadioButton *>(other);
            if (otherRadio && otherRadio->autoExclusive() && other->parentWidget() == stop->parentWidget())
                return true;
        }
        return false;
    };
    QStringList missing;
    for (QWidget *stop : stops)
        if (!reached.contains(stop) && !radioGroupReached(stop))
            missing << describe(stop);
    return missing;
}

// Columns of the window's visible item views whose header has no tooltip.
inline QStringList columnsWithoutToolTip(QWidget *window)
{
    QStringList missing;
    for (const QAbstractItemView *view : window->findChildren<QAbstractItemView *>()) {
        const QAbstractItemModel *model = view->model();
        if (!model || !view->isVisibleTo(window) || qobject_cast<const QHeaderView *>(view))
            continue;
        for (int column = 0; column < model->columnCount(); ++column)
            if (model->headerData(column, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty())
                missing << QStringLiteral("%1: column %2 (%3)")
                               .arg(describe(view))
                               .arg(column)
                               .arg(model->headerData(column, Qt::Horizontal).toString());
    }
    return missing;
}

} // namespace mm::test
