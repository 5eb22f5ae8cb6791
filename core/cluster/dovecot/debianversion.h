#pragma once

#include <QString>

#include <optional>

namespace mm::cluster {

// A Debian package version, [epoch:]upstream[-revision], ordered as dpkg orders it
// (deb-version(7)): "1:2.3.19.1+dfsg1-2.1+deb12u7" > "1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1",
// "~" sorts before everything, even the end of the string.
class DebianVersion
{
public:
    // nullopt for text dpkg would refuse (empty, a non-numeric epoch, an upstream part not
    // starting with a digit, white space).
    static std::optional<DebianVersion> parse(const QString &text);

    int epoch() const { return m_epoch; }
    const QString &upstream() const { return m_upstream; }
    const QString &revision() const { return m_revision; }
    QString toString() const;

    // The build Mailmesh made from this Debian version: everything before "+mailmesh".
    // "1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1" → "1:2.3.19.1+dfsg1-2.1+deb12u6".
    DebianVersion withoutMailmeshSuffix() const;
    bool isMailmeshBuild() const;

    // <0, 0, >0 as `dpkg --compare-versions a lt|eq|gt b`.
    static int compare(const DebianVersion &a, const DebianVersion &b);
    friend bool operator<(const DebianVersion &a, const DebianVersion &b) { return compare(a, b) < 0; }
    friend bool operator==(const DebianVersion &a, const DebianVersion &b) { return compare(a, b) == 0; }

private:
    int m_epoch = 0;
    QString m_upstream;
    QString m_revision;
};

} // namespace mm::cluster
