#include "cluster/dovecot/dovecotversion.h"

namespace mm::cluster {

std::optional<DovecotVersion> DovecotVersion::parse(const QString &text)
{
    const auto parsed = node::DovecotVersion::parse(text.toStdString());
    if (!parsed)
        return std::nullopt;
    DovecotVersion version;
    version.numbers = QList<int>(parsed->numbers.begin(), parsed->numbers.end());
    version.suffix = QString::fromStdString(parsed->suffix);
    version.text = text.trimmed();
    return version;
}

node::DovecotVersion DovecotVersion::toNode() const
{
    node::DovecotVersion version;
    version.numbers.assign(numbers.begin(), numbers.end());
    version.suffix = suffix.toStdString();
    return version;
}

bool DovecotVersion::isMailmeshBuild() const
{
    return toNode().isMailmeshBuild();
}

int DovecotVersion::mailmeshRevision() const
{
    return toNode().mailmeshRevision();
}

QString DovecotVersion::numeric() const
{
    return QString::fromStdString(toNode().numeric());
}

QString DovecotVersion::line() const
{
    return QString::fromStdString(toNode().line());
}

int DovecotVersion::compare(const DovecotVersion &a, const DovecotVersion &b)
{
    return node::DovecotVersion::compare(a.toNode(), b.toNode());
}

} // namespace mm::cluster
