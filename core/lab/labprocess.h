#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace mm::lab {

// Blocking runs of the host's tools (ip, mount, ssh-keygen, openssl, nsenter, apt-get): the lab
// is set up and torn down by a series of them, each of which must succeed before the next.
struct ProgramOutput
{
    int exitCode = -1;
    QByteArray standardOutput;
    QByteArray standardError;
};

struct ProgramRun
{
    QString program; // a name looked up in PATH and the sbin directories, or an absolute path
    QStringList arguments;
    QByteArray input;
    int timeoutMs = 60'000;
};

// The program's output; an error when it cannot start, times out (it is killed) or exits
// non-zero, the message ending with the last lines of its stderr.
Result<ProgramOutput> runProgram(const ProgramRun &run);
// The same, but a non-zero exit is a value, not an error.
Result<ProgramOutput> runProgramAllowingFailure(const ProgramRun &run);

// Absolute path of a program in PATH or in the sbin directories (root's tools live there);
// empty when there is none.
QString findProgram(const QString &name);

} // namespace mm::lab
