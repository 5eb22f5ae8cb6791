#include "protocol/probereport.h"

#include <cstdio>

#include "maildir/jsonpath.h"
#include "protocol/version.h"

#include <charconv>
#include <cstdlib>

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

nlohmann::json optionalBoolJson(const std::optional<bool> &value)
{
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::optional<bool> readOptionalBool(const nlohmann::json &json, const char *key)
{
    const auto it = json.find(key);
    if (it == json.end() || !it->is_boolean())
        return std::nullopt;
    return it->get<bool>();
}

nlohmann::json syncthingJson(const ProbeReport::Syncthing &syncthing)
{
    nlohmann::json json = programJson(syncthing);
    if (syncthing.home)
        maildir::putPath(json, "home", *syncthing.home);
    else
        json["home"] = nullptr;
    const auto &config = syncthing.config;
    json["configRead"] = config.has_value();
    if (config) {
        json["guiAddress"] = maildir::toValidUtf8(config->guiAddress);
        json["guiEnabled"] = config->guiEnabled;
        json["guiTls"] = config->guiTls;
        json["guiOnLoopback"] = isLoopbackGuiAddress(config->guiAddress);
        nlohmann::json listen = nlohmann::json::array();
        for (const auto &address : config->listenAddresses)
            listen.push_back(maildir::toValidUtf8(address));
        json["listenAddresses"] = std::move(listen);
        json["globalAnnounceEnabled"] = optionalBoolJson(config->globalAnnounceEnabled);
        json["relaysEnabled"] = optionalBoolJson(config->relaysEnabled);
    } else {
        for (const char *key : {"guiAddress", "guiEnabled", "guiTls", "guiOnLoopback",
                                "listenAddresses", "globalAnnounceEnabled", "relaysEnabled"})
            json[key] = nullptr;
    }
    nlohmann::json processes = nlohmann::json::array();
    for (const auto &process : syncthing.processes)
        processes.push_back(process);
    json["processes"] = std::move(processes);
    return json;
}

void readSyncthing(const nlohmann::json &json, ProbeReport::Syncthing &syncthing)
{
    readProgram(json, syncthing);
    syncthing.home = maildir::readPath(json, "home");
    if (json.value("configRead", false)) {
        SyncthingConfig config;
        config.guiAddress = json.value("guiAddress", "");
        config.guiEnabled = json.value("guiEnabled", true);
        config.guiTls = json.value("guiTls", false);
        if (const auto listen = json.find("listenAddresses");
            listen != json.end() && listen->is_array())
            for (const auto &address : *listen)
                if (address.is_string())
                    config.listenAddresses.push_back(address.get<std::string>());
        config.globalAnnounceEnabled = readOptionalBool(json, "globalAnnounceEnabled");
        config.relaysEnabled = readOptionalBool(json, "relaysEnabled");
        syncthing.config = std::move(config);
    }
    if (const auto processes = json.find("processes");
        processes != json.end() && processes->is_array())
        for (const auto &process : *processes)
            if (process.is_object())
                syncthing.processes.push_back(process.get<ProbeReport::SyncthingProcess>());
}

} // namespace

void to_json(nlohmann::json &json, const ProbeReport::SyncthingProcess &process)
{
    json = nlohmann::json{{"pid", process.pid},
                          {"ppid", process.ppid},
                          {"uid", process.uid},
                          {"user", maildir::toValidUtf8(process.user)}};
    if (process.home)
        maildir::putPath(json, "home", *process.home);
    else
        json["home"] = nullptr;
}

void from_json(const nlohmann::json &json, ProbeReport::SyncthingProcess &process)
{
    process = ProbeReport::SyncthingProcess{};
    process.pid = json.value("pid", std::int64_t{0});
    process.ppid = json.value("ppid", std::int64_t{0});
    process.uid = json.value("uid", std::uint32_t{0});
    process.user = json.value("user", "");
    process.home = maildir::readPath(json, "home");
}

void to_json(nlohmann::json &json, const ProbeReport::ChangeWatcherProcess &process)
{
    json = nlohmann::json{
        {"pid", process.pid}, {"uid", process.uid}, {"user", maildir::toValidUtf8(process.user)}};
    if (process.syncthingHome)
        maildir::putPath(json, "syncthingHome", *process.syncthingHome);
    else
        json["syncthingHome"] = nullptr;
}

void from_json(const nlohmann::json &json, ProbeReport::ChangeWatcherProcess &process)
{
    process = ProbeReport::ChangeWatcherProcess{};
    process.pid = json.value("pid", std::int64_t{0});
    process.uid = json.value("uid", std::uint32_t{0});
    process.user = json.value("user", "");
    process.syncthingHome = maildir::readPath(json, "syncthingHome");
}

void to_json(nlohmann::json &json, const ProbeReport::Owner &owner)
{
    json = nlohmann::json{
        {"uid", owner.uid}, {"user", maildir::toValidUtf8(owner.user)}, {"files", owner.files}};
}

void from_json(const nlohmann::json &json, ProbeReport::Owner &owner)
{
    owner.uid = json.value("uid", std::uint32_t{0});
    owner.user = json.value("user", "");
    owner.files = json.value("files", std::uint64_t{0});
}

void to_json(nlohmann::json &json, const ProbeReport::Inventory &inventory)
{
    json = nlohmann::json{{"maildirs", inventory.maildirs},
                          {"folders", inventory.folders},
                          {"classicFolders", inventory.classicFolders},
                          {"curOnlyFolders", inventory.curOnlyFolders},
                          {"brokenFolders", inventory.brokenFolders},
                          {"messages", inventory.messages},
                          {"bytes", inventory.bytes},
                          {"owners", inventory.owners},
                          {"inotifyWatchesNeeded", inventory.inotifyWatchesNeeded},
                          {"problems", inventory.problems}};
}

void from_json(const nlohmann::json &json, ProbeReport::Inventory &inventory)
{
    inventory = ProbeReport::Inventory{};
    inventory.maildirs = json.value("maildirs", std::uint64_t{0});
    inventory.folders = json.value("folders", std::uint64_t{0});
    inventory.classicFolders = json.value("classicFolders", std::uint64_t{0});
    inventory.curOnlyFolders = json.value("curOnlyFolders", std::uint64_t{0});
    inventory.brokenFolders = json.value("brokenFolders", std::uint64_t{0});
    inventory.messages = json.value("messages", std::uint64_t{0});
    inventory.bytes = json.value("bytes", std::uint64_t{0});
    if (const auto owners = json.find("owners"); owners != json.end() && owners->is_array())
        for (const auto &owner : *owners)
            if (owner.is_object())
                inventory.owners.push_back(owner.get<ProbeReport::Owner>());
    inventory.inotifyWatchesNeeded = json.value("inotifyWatchesNeeded", std::uint64_t{0});
    inventory.problems = json.value("problems", std::uint64_t{0});
}

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
    json["syncthing"] = syncthingJson(report.syncthing);
    json["changeWatchers"] = report.changeWatchers;
    json["inventory"] =
        report.inventory ? nlohmann::json(*report.inventory) : nlohmann::json(nullptr);
    json["defaultStateDir"] =
        report.defaultStateDir ? nlohmann::json(*report.defaultStateDir) : nlohmann::json(nullptr);
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
        readSyncthing(*syncthing, report.syncthing);
    if (const auto watchers = json.find("changeWatchers");
        watchers != json.end() && watchers->is_array())
        for (const auto &watcher : *watchers)
            if (watcher.is_object())
                report.changeWatchers.push_back(watcher.get<ProbeReport::ChangeWatcherProcess>());
    if (const auto stateDir = json.find("defaultStateDir"); stateDir != json.end() && stateDir->is_string())
        report.defaultStateDir = stateDir->get<std::string>();
    if (const auto inventory = json.find("inventory");
        inventory != json.end() && inventory->is_object())
    {
        ProbeReport::Inventory value;
        from_json(*inventory, value); // called by name: clang's ADL does not see this file's helpers
        report.inventory = value;
    }
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

std::string curOnlySettingName(std::string_view dovecotVersion)
{
    int major = 0, minor = 0;
    if (std::sscanf(std::string(dovecotVersion).c_str(), "%d.%d", &major, &minor) == 2 &&
        (major > 2 || (major == 2 && minor >= 4)))
        return "maildir/maildir_cur_only";
    return "maildir_cur_only";
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

namespace {

// Just enough XML for Syncthing's config.xml: elements, attributes, comments, CDATA and the
// predefined and numeric character references. No DTDs, no namespaces.
struct XmlElement
{
    std::string_view name;
    std::string_view attributes; // the start tag after its name
    std::string_view content;    // raw, between the start and the end tag
};

// The '>' closing the tag that starts at `open`, skipping quoted attribute values.
std::size_t tagEnd(std::string_view xml, std::size_t open)
{
    char quote = 0;
    for (std::size_t i = open + 1; i < xml.size(); ++i) {
        const char c = xml[i];
        if (quote != 0) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return i;
        }
    }
    return std::string_view::npos;
}

bool isXmlSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The direct children of an element's content (or of the document), in order. Unbalanced input
// yields what could be matched.
std::vector<XmlElement> childElements(std::string_view xml)
{
    std::vector<XmlElement> children;
    XmlElement current;
    std::size_t contentStart = 0;
    int depth = 0;
    std::size_t i = 0;
    while ((i = xml.find('<', i)) != std::string_view::npos) {
        const std::string_view rest = xml.substr(i);
        std::size_t next = std::string_view::npos;
        if (rest.starts_with("<!--")) {
            next = xml.find("-->", i + 4);
            next = next == std::string_view::npos ? next : next + 3;
        } else if (rest.starts_with("<![CDATA[")) {
            next = xml.find("]]>", i + 9);
            next = next == std::string_view::npos ? next : next + 3;
        } else if (rest.starts_with("<?") || rest.starts_with("<!")) {
            next = xml.find('>', i);
            next = next == std::string_view::npos ? next : next + 1;
        } else {
            const std::size_t close = tagEnd(xml, i);
            if (close == std::string_view::npos)
                break;
            std::string_view tag = xml.substr(i + 1, close - i - 1);
            if (tag.starts_with('/')) {
                if (depth > 0 && --depth == 0) {
                    current.content = xml.substr(contentStart, i - contentStart);
                    children.push_back(current);
                }
            } else {
                const bool selfClosing = tag.ends_with('/');
                if (selfClosing)
                    tag.remove_suffix(1);
                if (depth == 0) {
                    std::size_t nameEnd = 0;
                    while (nameEnd < tag.size() && !isXmlSpace(tag[nameEnd]))
                        ++nameEnd;
                    current = XmlElement{tag.substr(0, nameEnd), tag.substr(nameEnd), {}};
                    contentStart = close + 1;
                    if (selfClosing)
                        children.push_back(current);
                }
                if (!selfClosing)
                    ++depth;
            }
            next = close + 1;
        }
        if (next == std::string_view::npos)
            break;
        i = next;
    }
    return children;
}

void appendUtf8(std::string &out, unsigned long cp)
{
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x110000) {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

// Character data with references resolved and CDATA sections unwrapped; markup inside is dropped.
std::string xmlText(std::string_view raw)
{
    std::string out;
    for (std::size_t i = 0; i < raw.size();) {
        const std::string_view rest = raw.substr(i);
        if (rest.starts_with("<![CDATA[")) {
            const std::size_t end = raw.find("]]>", i + 9);
            const std::size_t stop = end == std::string_view::npos ? raw.size() : end;
            out += raw.substr(i + 9, stop - i - 9);
            i = end == std::string_view::npos ? raw.size() : end + 3;
        } else if (raw[i] == '<') {
            const std::size_t end = raw.find('>', i);
            i = end == std::string_view::npos ? raw.size() : end + 1;
        } else if (raw[i] == '&') {
            const std::size_t semi = raw.find(';', i);
            const std::string_view ref = semi == std::string_view::npos
                                             ? std::string_view()
                                             : raw.substr(i + 1, semi - i - 1);
            static const std::pair<std::string_view, char> kNamed[] = {
                {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
            bool done = false;
            for (const auto &[name, c] : kNamed)
                if (ref == name) {
                    out += c;
                    done = true;
                }
            if (!done && ref.size() > 1 && ref.front() == '#') {
                const bool hex = ref[1] == 'x' || ref[1] == 'X';
                const std::string digits(ref.substr(hex ? 2 : 1));
                char *end = nullptr;
                const unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
                if (!digits.empty() && end && *end == '\0') {
                    appendUtf8(out, cp);
                    done = true;
                }
            }
            if (done) {
                i = semi + 1;
            } else {
                out += '&';
                ++i;
            }
        } else {
            out += raw[i++];
        }
    }
    std::string_view text = out;
    while (!text.empty() && isXmlSpace(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && isXmlSpace(text.back()))
        text.remove_suffix(1);
    return std::string(text);
}

std::optional<std::string> xmlAttribute(std::string_view attributes, std::string_view wanted)
{
    std::size_t i = 0;
    while (i < attributes.size()) {
        while (i < attributes.size() && isXmlSpace(attributes[i]))
            ++i;
        const std::size_t nameStart = i;
        while (i < attributes.size() && attributes[i] != '=' && !isXmlSpace(attributes[i]))
            ++i;
        const std::string_view name = attributes.substr(nameStart, i - nameStart);
        while (i < attributes.size() && isXmlSpace(attributes[i]))
            ++i;
        if (i >= attributes.size() || attributes[i] != '=') {
            if (name.empty())
                ++i; // stray character: step over it
            continue;
        }
        ++i;
        while (i < attributes.size() && isXmlSpace(attributes[i]))
            ++i;
        if (i >= attributes.size() || (attributes[i] != '"' && attributes[i] != '\''))
            return std::nullopt;
        const char quote = attributes[i++];
        const std::size_t end = attributes.find(quote, i);
        if (end == std::string_view::npos)
            return std::nullopt;
        if (name == wanted)
            return xmlText(attributes.substr(i, end - i));
        i = end + 1;
    }
    return std::nullopt;
}

// Go's strconv.ParseBool, which Syncthing's XML decoding uses; empty means false there too.
std::optional<bool> goBool(std::string_view text)
{
    for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"})
        if (text == yes)
            return true;
    for (std::string_view no : {"", "0", "f", "F", "FALSE", "false", "False"})
        if (text == no)
            return false;
    return std::nullopt;
}

const XmlElement *findChild(const std::vector<XmlElement> &children, std::string_view name)
{
    for (const auto &child : children)
        if (child.name == name)
            return &child;
    return nullptr;
}

std::optional<std::uint8_t> ipv4FirstOctet(std::string_view host)
{
    int parts = 0;
    int first = -1;
    while (true) {
        const std::size_t dot = host.find('.');
        const std::string_view part = host.substr(0, dot);
        if (part.empty() || part.size() > 3)
            return std::nullopt;
        int value = 0;
        for (const char c : part) {
            if (c < '0' || c > '9')
                return std::nullopt;
            value = value * 10 + (c - '0');
        }
        if (value > 255)
            return std::nullopt;
        if (first < 0)
            first = value;
        ++parts;
        if (dot == std::string_view::npos)
            break;
        host.remove_prefix(dot + 1);
    }
    if (parts != 4)
        return std::nullopt;
    return static_cast<std::uint8_t>(first);
}

std::string lowercase(std::string_view text)
{
    std::string out(text);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

} // namespace

std::optional<SyncthingConfig> parseSyncthingConfig(std::string_view xml)
{
    const auto document = childElements(xml);
    const XmlElement *configuration = findChild(document, "configuration");
    if (!configuration)
        return std::nullopt;
    SyncthingConfig config;
    const auto sections = childElements(configuration->content);
    if (const XmlElement *gui = findChild(sections, "gui")) {
        config.guiEnabled =
            goBool(xmlAttribute(gui->attributes, "enabled").value_or("true")).value_or(true);
        config.guiTls =
            goBool(xmlAttribute(gui->attributes, "tls").value_or("false")).value_or(false);
        const auto guiChildren = childElements(gui->content);
        if (const XmlElement *address = findChild(guiChildren, "address"))
            config.guiAddress = xmlText(address->content);
    }
    if (const XmlElement *options = findChild(sections, "options")) {
        for (const XmlElement &option : childElements(options->content)) {
            if (option.name == "listenAddress")
                config.listenAddresses.push_back(xmlText(option.content));
            else if (option.name == "globalAnnounceEnabled")
                config.globalAnnounceEnabled = goBool(xmlText(option.content));
            else if (option.name == "relaysEnabled")
                config.relaysEnabled = goBool(xmlText(option.content));
        }
    }
    return config;
}

std::optional<SyncthingLocalApi> parseSyncthingLocalApi(std::string_view xml)
{
    const auto document = childElements(xml);
    const XmlElement *configuration = findChild(document, "configuration");
    if (!configuration)
        return std::nullopt;
    SyncthingLocalApi api;
    for (const XmlElement &section : childElements(configuration->content)) {
        if (section.name == "gui") {
            api.guiTls = goBool(xmlAttribute(section.attributes, "tls").value_or("false")).value_or(false);
            const auto guiChildren = childElements(section.content);
            if (const XmlElement *address = findChild(guiChildren, "address"))
                api.guiAddress = xmlText(address->content);
            if (const XmlElement *key = findChild(guiChildren, "apikey"))
                api.apiKey = xmlText(key->content);
        } else if (section.name == "folder") {
            SyncthingLocalApi::Folder folder;
            folder.id = xmlAttribute(section.attributes, "id").value_or("");
            folder.path = xmlAttribute(section.attributes, "path").value_or("");
            const auto folderChildren = childElements(section.content);
            if (const XmlElement *paused = findChild(folderChildren, "paused"))
                folder.paused = goBool(xmlText(paused->content)).value_or(false);
            if (!folder.id.empty() && !folder.path.empty())
                api.folders.push_back(std::move(folder));
        }
    }
    return api;
}

bool isLoopbackGuiAddress(std::string_view address)
{
    address = trim(address);
    for (std::string_view scheme : {"http://", "https://"})
        if (address.starts_with(scheme))
            address.remove_prefix(scheme.size());
    address = address.substr(0, address.find('/'));
    std::string_view host;
    if (address.starts_with('[')) {
        const std::size_t close = address.find(']');
        if (close == std::string_view::npos)
            return false;
        host = address.substr(1, close - 1);
    } else if (address.find(':') != address.rfind(':')) {
        host = address; // a bare IPv6 address without a port
    } else {
        host = address.substr(0, address.find(':'));
    }
    const std::string lower = lowercase(host);
    if (lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1")
        return true;
    std::string_view v4 = lower;
    if (v4.starts_with("::ffff:"))
        v4.remove_prefix(7);
    const auto octet = ipv4FirstOctet(v4);
    return octet && *octet == 127;
}

std::map<std::uint32_t, std::string> parsePasswd(std::string_view text)
{
    std::map<std::uint32_t, std::string> users;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-')
            continue;
        const auto nameEnd = line.find(':');
        if (nameEnd == std::string_view::npos || nameEnd == 0)
            continue;
        const auto passwordEnd = line.find(':', nameEnd + 1);
        if (passwordEnd == std::string_view::npos)
            continue;
        const auto uidEnd = line.find(':', passwordEnd + 1);
        if (uidEnd == std::string_view::npos)
            continue; // a complete entry has the gid and more after the uid
        const std::string_view uidText = line.substr(passwordEnd + 1, uidEnd - passwordEnd - 1);
        std::uint32_t uid = 0;
        const auto [ptr, ec] =
            std::from_chars(uidText.data(), uidText.data() + uidText.size(), uid);
        if (ec != std::errc() || ptr != uidText.data() + uidText.size() || uidText.empty())
            continue;
        users.emplace(uid, std::string(line.substr(0, nameEnd)));
    }
    return users;
}

namespace {

// /proc/PID/cmdline: NUL after every argument.
std::vector<std::string_view> splitCmdline(std::string_view cmdline)
{
    std::vector<std::string_view> args;
    while (!cmdline.empty()) {
        const auto end = cmdline.find('\0');
        args.push_back(cmdline.substr(0, end));
        cmdline.remove_prefix(end == std::string_view::npos ? cmdline.size() : end + 1);
    }
    return args;
}

} // namespace

std::optional<std::string> parseCmdlineHome(std::string_view cmdline)
{
    const std::vector<std::string_view> args = splitCmdline(cmdline);
    std::optional<std::string> home;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--")
            break;
        if (arg == "--home" || arg == "-home") {
            if (i + 1 < args.size())
                home = std::string(args[++i]);
        } else if (arg.starts_with("--home=")) {
            home = std::string(arg.substr(7));
        } else if (arg.starts_with("-home=")) {
            home = std::string(arg.substr(6));
        }
    }
    return home;
}

bool isAgentCommandName(std::string_view comm)
{
    return comm == "mailmesh-agent" || comm.starts_with("agent-");
}

std::optional<ChangeWatcherCmdline> parseChangeWatcherCmdline(std::string_view cmdline)
{
    const std::vector<std::string_view> args = splitCmdline(cmdline);
    if (args.size() < 2 || args[1] != "watch-changes")
        return std::nullopt;
    // As runChangeWatchCommand (app/mailmesh-agent/main.cpp) reads it.
    ChangeWatcherCmdline parsed;
    constexpr std::string_view kFlag = "--syncthing-home";
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg.size() > kFlag.size() && arg.starts_with(kFlag) && arg[kFlag.size()] == '=')
            parsed.syncthingHome = std::string(arg.substr(kFlag.size() + 1));
        else if (arg == kFlag && i + 1 < args.size())
            parsed.syncthingHome = std::string(args[++i]);
        else if (arg == "--delay-ms" && i + 1 < args.size())
            ++i; // its value is no flag
    }
    return parsed;
}

std::optional<ProcStat> parseProcStat(std::string_view text)
{
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    // After the name: " S PPID ..."
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        close + 4 >= text.size() || text[close + 1] != ' ' || text[close + 3] != ' ')
        return std::nullopt;
    ProcStat stat{std::string(text.substr(open + 1, close - open - 1)), text[close + 2], 0};
    const std::string_view rest = text.substr(close + 4);
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), stat.ppid);
    if (ec != std::errc())
        return std::nullopt;
    return stat;
}

std::optional<std::uint32_t> parseProcStatusUid(std::string_view text)
{
    std::size_t at = 0;
    while (at < text.size()) {
        const auto end = text.find('\n', at);
        const std::string_view line =
            text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? text.size() : end + 1;
        if (!line.starts_with("Uid:"))
            continue;
        std::string_view fields = line.substr(4);
        for (int field = 0; field < 2; ++field) {
            while (!fields.empty() && (fields.front() == ' ' || fields.front() == '\t'))
                fields.remove_prefix(1);
            std::uint32_t uid = 0;
            const auto [ptr, ec] =
                std::from_chars(fields.data(), fields.data() + fields.size(), uid);
            if (ec != std::errc())
                return std::nullopt;
            if (field == 1)
                return uid;
            fields.remove_prefix(std::size_t(ptr - fields.data()));
        }
    }
    return std::nullopt;
}

} // namespace mm::protocol
