#pragma once

#include <QStringList>
#include <QTextStream>

namespace mm::sandbox {

// `mailmeshctl sandbox up N [--dir DIR] [--dovecot-prefix P]` starts N persistent nodes and
// prints their description (JSON); `mailmeshctl sandbox down [--dir DIR]` stops them.
// Without --dir both use <tmp>/mailmesh-sandbox-<user>.
int runSandboxCommand(const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace mm::sandbox
