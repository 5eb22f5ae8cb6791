// Cluster files with hostile values (issue #20): any bytes either load as a cluster Mailmesh may
// act on, or are refused with a message; never a crash. What loads must hold up: every ssh
// option is one the policy allows and cannot carry a second option or shell syntax, every node's
// address gives ssh no option-like or multi-word argument, the pinned host key is a fingerprint,
// and the file written back reads back to the same cluster.
//
// Built with Qt (the cluster file code is Qt's JSON), from the few sources it needs, in the
// clang/libFuzzer tree: see tests/fuzz.cmake.

#include "cluster/config/clusterconfig.h"
#include "remote/sshaddress.h"
#include "remote/sshoptionpolicy.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cstdint>
#include <cstdlib>

namespace {

void require(bool condition)
{
    if (!condition)
        std::abort();
}

bool isPlainWord(const QString &text)
{
    for (const QChar c : text)
        if (c.isSpace() || c.unicode() < 0x20 || c == QLatin1Char(';') || c == QLatin1Char('`') ||
            c == QLatin1Char('$') || c == QLatin1Char('|') || c == QLatin1Char('&') || c == QLatin1Char('\'') ||
            c == QLatin1Char('"') || c == QLatin1Char('\\') || c == QLatin1Char('<') || c == QLatin1Char('>'))
            return false;
    return !text.isEmpty();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return 0;
    const auto config = mm::cluster::ClusterConfig::fromJson(document.object());
    if (!config) {
        require(!config.error().message.empty());
        return 0;
    }
    require(config->validate().isEmpty());
    for (const mm::cluster::NodeConfig &node : config->nodes) {
        for (const QString &option : node.sshOptions) {
            const auto checked = mm::remote::SshOptionPolicy::check(option);
            require(checked.has_value());
            // What reaches ssh is one Key=Value word of a key the policy names.
            require(isPlainWord(*checked));
            require(mm::remote::SshOptionPolicy::allowedKeys().contains(checked->section(QLatin1Char('='), 0, 0)));
        }
        const auto address = mm::remote::SshAddress::parse(node.ssh);
        require(address.has_value());
        for (const QString &argument : address->sshArguments())
            require(isPlainWord(argument) || argument.contains(QLatin1Char(':'))); // IPv6
        require(!address->host.startsWith(QLatin1Char('-')) && !address->user.startsWith(QLatin1Char('-')));
        require(node.hostKey.isEmpty() || node.hostKey.startsWith(QLatin1String("SHA256:")));
    }
    const auto again = mm::cluster::ClusterConfig::fromJson(config->toJson());
    require(again.has_value());
    require(*again == *config);
    return 0;
}
