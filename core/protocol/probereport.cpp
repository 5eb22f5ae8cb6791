#include "protocol/probereport.h"

#include "maildir/jsonpath.h"
#include "protocol/version.h"

namespace mm::protocol {

namespace {

nlohmann::json optionalNumber(const std::optional<std::int64_t> &value)
{
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::optional<std::int64_t> readOptionalNumber(const nlohmann::json &json, const char *key)
{
    const auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer())
        return std::nullopt;
    return it->get<std::int64_t>();
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::string_view firstLine(std::string_view s)
{
    return trim(s.substr(0, s.find('\n')));
}

nlohmann::json programJson(const ProbeReport::Program &program)
{
    nlohmann::json json{{"found", program.found}};
    maildir::putPath(json, "path", program.path);
    json["version"] = maildir::toValidUtf8(program.version);
    return json;
}

void readProgram(const nlohmann::json &json, ProbeReport::Program &program)
{
    program.found = json.value("found", false);
    program.path = maildir::readPath(json, "path").value_or("");
    program.version = json.value("version", "");
}

} // namespace

void to_json(nlohmann::json &json, const ProbeReport &report)
{
    json = nlohmann::json{
        {"schemaVersion", kSchemaVersion},
        {"agentVersion", report.agentVersion},
        {"hostname", maildir::toValidUtf8(report.hostname)},
        {"architecture", report.architecture},
        {"os",
         {{"id", maildir::toValidUtf8(report.os.id)},
          {"versionId", maildir::toValidUtf8(report.os.versionId)},
          {"prettyName", maildir::toValidUtf8(report.os.prettyName)},
          {"kernelRelease", maildir::toValidUtf8(report.os.kernelRelease)}}},
        {"inotify",
         {{"maxUserWatches", optionalNumber(report.inotify.maxUserWatches)},
          {"maxUserInstances", optionalNumber(report.inotify.maxUserInstances)},
          {"maxQueuedEvents", optionalNumber(report.inotify.maxQueuedEvents)}}},
    };
    if (report.disk) {
        nlohmann::json disk{{"totalBytes", report.disk->totalBytes},
                            {"freeBytes", report.disk->freeBytes},
                            {"availableBytes", report.disk->availableBytes},
                            {"totalInodes", report.disk->totalInodes},
                            {"freeInodes", report.disk->freeInodes}};
        maildir::putPath(disk, "path", report.disk->path);
        json["disk"] = std::move(disk);
    } else {
        json["disk"] = nullptr;
    }
    nlohmann::json dovecot = programJson(report.dovecot);
    dovecot["curOnlyBuild"] = report.dovecot.curOnlyBuild;
    dovecot["curOnlyEnabled"] = report.dovecot.curOnlyEnabled
                                    ? nlohmann::json(*report.dovecot.curOnlyEnabled)
                                    : nlohmann::json(nullptr);
    dovecot["curOnlyEvidence"] = report.dovecot.curOnlyEvidence;
    json["dovecot"] = std::move(dovecot);
    json["syncthing"] = programJson(report.syncthing);
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto &warning : report.warnings)
        warnings.push_back(maildir::toValidUtf8(warning));
    json["warnings"] = std::move(warnings);
}

void from_json(const nlohmann::json &json, ProbeReport &report)
{
    report = ProbeReport{};
    report.agentVersion = json.value("agentVersion", "");
    report.hostname = json.value("hostname", "");
    report.architecture = json.value("architecture", "");
    if (const auto os = json.find("os"); os != json.end() && os->is_object()) {
        report.os.id = os->value("id", "");
        report.os.versionId = os->value("versionId", "");
        report.os.prettyName = os->value("prettyName", "");
        report.os.kernelRelease = os->value("kernelRelease", "");
    }
    if (const auto disk = json.find("disk"); disk != json.end() && disk->is_object()) {
        ProbeReport::Disk d;
        d.path = maildir::readPath(*disk, "path").value_or("");
        d.totalBytes = disk->value("totalBytes", std::uint64_t{0});
        d.freeBytes = disk->value("freeBytes", std::uint64_t{0});
        d.availableBytes = disk->value("availableBytes", std::uint64_t{0});
        d.totalInodes = disk->value("totalInodes", std::uint64_t{0});
        d.freeInodes = disk->value("freeInodes", std::uint64_t{0});
        report.disk = d;
    }
    if (const auto inotify = json.find("inotify"); inotify != json.end() && inotify->is_object()) {
        report.inotify.maxUserWatches = readOptionalNumber(*inotify, "maxUserWatches");
        report.inotify.maxUserInstances = readOptionalNumber(*inotify, "maxUserInstances");
        report.inotify.maxQueuedEvents = readOptionalNumber(*inotify, "maxQueuedEvents");
    }
    if (const auto dovecot = json.find("dovecot"); dovecot != json.end() && dovecot->is_object()) {
        readProgram(*dovecot, report.dovecot);
        report.dovecot.curOnlyBuild = dovecot->value("curOnlyBuild", false);
        if (const auto enabled = dovecot->find("curOnlyEnabled");
            enabled != dovecot->end() && enabled->is_boolean())
            report.dovecot.curOnlyEnabled = enabled->get<bool>();
        report.dovecot.curOnlyEvidence = dovecot->value("curOnlyEvidence", "");
    }
    if (const auto syncthing = json.find("syncthing");
        syncthing != json.end() && syncthing->is_object())
        readProgram(*syncthing, report.syncthing);
    if (const auto warnings = json.find("warnings"); warnings != json.end() && warnings->is_array())
        for (const auto &warning : *warnings)
            if (warning.is_string())
                report.warnings.push_back(warning.get<std::string>());
}

std::map<std::string, std::string> parseOsRelease(std::string_view text)
{
    std::map<std::string, std::string> fields;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.empty() || line.front() == '#')
            continue;
        const auto equals = line.find('=');
        if (equals == std::string_view::npos || equals == 0)
            continue;
        const std::string key(trim(line.substr(0, equals)));
        std::string_view raw = trim(line.substr(equals + 1));
        std::string value;
        if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
            const char quote = raw.front();
            raw.remove_prefix(1);
            for (std::size_t i = 0; i < raw.size(); ++i) {
                const char c = raw[i];
                if (c == quote)
                    break;
                // Inside double quotes, os-release allows shell-style escapes of $ " \ `.
                if (quote == '"' && c == '\\' && i + 1 < raw.size()) {
                    value += raw[++i];
                    continue;
                }
                value += c;
            }
        } else {
            value = std::string(raw);
        }
        fields[key] = std::move(value);
    }
    return fields;
}

std::string parseDovecotVersion(std::string_view output)
{
    return std::string(firstLine(output));
}

bool isCurOnlyDovecotVersion(std::string_view version)
{
    return version.find("+mailmesh") != std::string_view::npos;
}

std::optional<bool> parseCurOnlySetting(std::string_view output, int exitCode)
{
    if (exitCode != 0)
        return std::nullopt; // "Unknown setting": a stock build
    const std::string_view value = firstLine(output);
    if (value == "yes")
        return true;
    if (value == "no")
        return false;
    return std::nullopt;
}

std::string parseSyncthingVersion(std::string_view output)
{
    std::string_view line = firstLine(output);
    constexpr std::string_view kPrefix = "syncthing ";
    if (!line.starts_with(kPrefix))
        return std::string(line);
    line.remove_prefix(kPrefix.size());
    return std::string(line.substr(0, line.find(' ')));
}

} // namespace mm::protocol
