#pragma once

#include <QString>
#include <QStringList>

namespace mm::remote {

// ssh hands the remote side one command string that the login shell splits again; every
// argument is therefore quoted for a POSIX shell so that it arrives as exactly one word.
QString shellQuote(const QString &argument);
QString shellJoin(const QStringList &argv);

} // namespace mm::remote
