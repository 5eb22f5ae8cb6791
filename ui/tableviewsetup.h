#pragma once

class QTableView;

namespace mm::ui {

// The look and keyboard behaviour every table in the app shares: whole rows selected, no row
// numbers, the last column filling the width, and Tab leaving the table for the next control
// (arrow keys, Home/End and PgUp/PgDn move inside it) so no table traps keyboard users.
void setUpTableView(QTableView *view);

} // namespace mm::ui
