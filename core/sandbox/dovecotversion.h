#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>

namespace mm::sandbox {

// Which Dovecot a prefix holds. 2.4 rejects 2.3 configuration (and the other way round), so the
// configuration the sandbox writes depends on it.
struct DovecotVersion
{
    int major = 0;
    int minor = 0;
    int patch = 0;
    QString text; // first word of `dovecot --version`, e.g. "2.4.1+mailmesh1"

    QString line() const { return QString::number(major) + u'.' + QString::number(minor); }
    // "2.4.1": what 2.4 expects in dovecot_config_version and dovecot_storage_version.
    QString release() const { return line() + u'.' + QString::number(patch); }
    // 2.4 replaced mail_location by mail_driver/mail_path and requires dovecot_config_version.
    bool hasVersionedConfig() const { return major > 2 || (major == 2 && minor >= 4); }

    // From `dovecot --version` output: "2.3.19.1+mailmesh1 (9f5d2c3a5f)", "2.4.1-4 (7e3b3e2)",
    // read by node::DovecotVersion; a version without a minor number is refused here.
    static Result<DovecotVersion> parse(const QByteArray &versionOutput);
    // Runs PREFIX/sbin/dovecot --version.
    static Result<DovecotVersion> ofPrefix(const QString &prefix);
};

} // namespace mm::sandbox
