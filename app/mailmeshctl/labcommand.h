#pragma once

#include <QStringList>
#include <QTextStream>

namespace mm::lab {

// `mailmeshctl lab up N [--debian 12] [--dir DIR] [--login root|sudo|mixed] [--dovecot-prefix P]`
// boots N persistent Debian nodes (core/lab) and prints their description (JSON);
// `mailmeshctl lab add [--dir DIR]` boots one more; `mailmeshctl lab down [--dir DIR]` stops
// them and removes what the lab made.
// Without --dir both use /var/tmp/mailmesh-lab.
int runLabCommand(const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace mm::lab
