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
        json["guiOnLoopback"] = node::isLoopbackGuiAddress(config->guiAddress);
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
        node::SyncthingConfig config;
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

} // namespace mm::protocol
