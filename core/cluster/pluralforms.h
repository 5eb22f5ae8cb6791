#pragma once

#include <QString>

namespace mm::cluster {

// Installs the English plural forms of every "%n" message (core/cluster, ui): the source texts
// read "%n node(s)", and the translation gives "1 node" and "3 nodes". Call once after the
// QCoreApplication exists; returns false when the built-in translation could not be loaded.
bool installPluralForms();

// "1 node", "3 nodes": for English text that is never translated, such as the Nagios line of
// `status --check` and the CLI's status table, which scripts and monitoring read as they are.
QString counted(qint64 count, const char *one, const char *many);

} // namespace mm::cluster
