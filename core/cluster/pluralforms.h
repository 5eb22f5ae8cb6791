#pragma once

namespace mm::cluster {

// Installs the English plural forms of every "%n" message (core/cluster, ui): the source texts
// read "%n node(s)", and the translation gives "1 node" and "3 nodes". Call once after the
// QCoreApplication exists; returns false when the built-in translation could not be loaded.
bool installPluralForms();

} // namespace mm::cluster
