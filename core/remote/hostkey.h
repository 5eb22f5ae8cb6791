#pragma once

#include "common/result.h"

#include <QString>

namespace mm::remote {

// A host key as OpenSSH writes it in known_hosts: "NAME TYPE BASE64". NAME is "host" for port
// 22 and "[host]:port" otherwise, exactly as ssh looks it up (its %H token).
struct HostKey
{
    QString hostName;
    QString type;      // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"...
    QString keyBase64; // the public key blob

    bool isValid() const { return !type.isEmpty() && !keyBase64.isEmpty(); }
    // "SHA256:..." as ssh prints it: unpadded base64 of the SHA-256 of the key blob.
    QString fingerprint() const;
    QString knownHostsLine() const;

    // Parses one known_hosts line (an optional @marker, hosts, type, key, comment). The host
    // field is kept as written, which may be a hashed "|1|..." entry.
    static Result<HostKey> fromKnownHostsLine(const QString &line);

    friend bool operator==(const HostKey &, const HostKey &) = default;
};

} // namespace mm::remote
