#pragma once

#include "common/result.h"

#include <QString>
#include <QStringList>

namespace mm::remote {

// Which ssh options a node may carry (a cluster file's "sshOptions", SshOptions::extraOptions).
// A cluster file is shared and kept in git, so nothing in it may make ssh run a command, read or
// forward the admin's credentials elsewhere, or loosen the host-key policy: only what admins
// really need to reach a node is allowed (how to get there, who to be, which key, timeouts), and
// each value is checked against a strict shape, so a value can never smuggle in a second option
// or shell syntax (ssh pastes host and user names into ProxyCommand lines it runs through sh).
//
// Everything else is refused by name: ProxyCommand, LocalCommand, PermitLocalCommand,
// KnownHostsCommand, PKCS11Provider, SecurityKeyProvider, Match exec, ForwardAgent,
// LocalForward/RemoteForward/DynamicForward, GlobalKnownHostsFile, UserKnownHostsFile,
// StrictHostKeyChecking, ControlPath, Include...
class SshOptionPolicy
{
public:
    // Checks one option ("Key=Value", "Key Value" or "Key = Value"; the key in any case) and
    // returns it as "Key=Value" with ssh's spelling of the key. The error says what is wrong
    // with the option and names the options that are allowed.
    static Result<QString> check(const QString &option);

    // The keys check() accepts, in ssh's spelling.
    static QStringList allowedKeys();
};

} // namespace mm::remote
