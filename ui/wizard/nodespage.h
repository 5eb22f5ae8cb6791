#pragma once

#include "ui/wizard/setuppage.h"

#include <QHash>

class QCheckBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace mm::ui {

class NodeDraftModel;

// Page 2: the nodes, in a table with an editor for the selected row. Every keystroke is checked
// with ClusterConfig::validate(); problems show beside their field and in the row.
class NodesPage : public SetupPage
{
    Q_OBJECT

public:
    explicit NodesPage(SetupSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;

    NodeDraftModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    // The editor's field for a NodeConfig member name ("ssh", "mailRoot"...), for tests.
    QLineEdit *editorField(const QString &name) const { return m_fields.value(name); }

private:
    void addNode();
    void removeSelectedNode();
    void showRow(int row);
    void storeEditedField();
    void showProblems();
    int currentRow() const;

    NodeDraftModel *m_model;
    QTableView *m_view;
    QPushButton *m_remove;
    QGroupBox *m_editor;
    QCheckBox *m_showAdvanced;
    QWidget *m_advanced;
    QLabel *m_summary;
    QHash<QString, QLineEdit *> m_fields;
    QHash<QString, QLabel *> m_problemLabels;
    bool m_loading = false;
};

} // namespace mm::ui
