#pragma once

#include "common/result.h"

#include <QStringList>

namespace mm::remote {

// Syncthing stores an invalid .stignore pattern anyway and only reports it in the reply's
// "error" field (seen with 1.19), leaving the folder half-ignored. Patterns are therefore
// checked here, before they are pushed: prefixes (!, (?i), (?d)), comments, #include, escapes,
// character classes and {a,b} alternatives.
class SyncthingIgnores
{
public:
    // Ok, or BadRequest naming every bad line (1-based) and why.
    static Status validate(const QStringList &lines);
    // Why one pattern is invalid, or an empty string when it is fine.
    static QString problem(const QString &line);
};

} // namespace mm::remote
