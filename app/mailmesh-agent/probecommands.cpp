// `probe`: what a node is (OS, architecture, disk, inotify limits) and what it runs (Dovecot,
// whether it is the cur/-only build, Syncthing). Read-only. No NSS and no shell: uname(2),
// statvfs(3), files under /etc and /proc, and programs run directly.

#include "childprocess.h"

#include "protocol/command.h"
#include "protocol/params.h"
#include "protocol/probereport.h"
#include "protocol/version.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

namespace mm::agent {

namespace {

const std::vector<std::string> kSystemDirectories{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                                  "/usr/bin",        "/sbin",          "/bin"};

std::optional<std::string> readSmallFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void probeOs(protocol::ProbeReport &report)
{
    utsname names{};
    if (::uname(&names) == 0) {
        report.hostname = names.nodename;
        report.architecture = names.machine;
        report.os.kernelRelease = names.release;
    } else {
        report.warnings.push_back(std::string("uname failed: ") + std::strerror(errno));
    }
    auto text = readSmallFile("/etc/os-release");
    if (!text)
        text = readSmallFile("/usr/lib/os-release");
    if (!text) {
        report.warnings.push_back("neither /etc/os-release nor /usr/lib/os-release is readable");
        return;
    }
    auto fields = protocol::parseOsRelease(*text);
    report.os.id = fields["ID"];
    report.os.versionId = fields["VERSION_ID"];
    report.os.prettyName = fields["PRETTY_NAME"];
}

Status probeDisk(protocol::ProbeReport &report, const std::string &path)
{
    struct statvfs fs
    {
    };
    if (::statvfs(path.c_str(), &fs) != 0) {
        const int err = errno;
        return fail(err == ENOENT   ? ErrorCode::NotFound
                    : err == EACCES ? ErrorCode::AccessDenied
                                    : ErrorCode::IoError,
                    path + ": cannot read the file system's free space: " + std::strerror(err),
                    path);
    }
    protocol::ProbeReport::Disk disk;
    disk.path = path;
    disk.totalBytes = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    disk.freeBytes = static_cast<std::uint64_t>(fs.f_bfree) * fs.f_frsize;
    disk.availableBytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    disk.totalInodes = fs.f_files;
    disk.freeInodes = fs.f_ffree;
    report.disk = disk;
    return {};
}

std::optional<std::int64_t> readProcNumber(protocol::ProbeReport &report, const std::string &path)
{
    const auto text = readSmallFile(path);
    if (!text) {
        report.warnings.push_back(path + " is not readable");
        return std::nullopt;
    }
    try {
        return std::stoll(*text);
    } catch (const std::exception &) {
        report.warnings.push_back(path + " does not hold a number");
        return std::nullopt;
    }
}

void probeInotify(protocol::ProbeReport &report)
{
    const std::string dir = "/proc/sys/fs/inotify/";
    report.inotify.maxUserWatches = readProcNumber(report, dir + "max_user_watches");
    report.inotify.maxUserInstances = readProcNumber(report, dir + "max_user_instances");
    report.inotify.maxQueuedEvents = readProcNumber(report, dir + "max_queued_events");
}

std::string directoryOf(const std::string &path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

void probeDovecot(protocol::ProbeReport &report, const std::string &explicitPath)
{
    auto &dovecot = report.dovecot;
    dovecot.path = explicitPath.empty() ? ChildProcess::findProgram("dovecot", kSystemDirectories)
                                        : explicitPath;
    if (dovecot.path.empty())
        return;
    if (::access(dovecot.path.c_str(), X_OK) != 0) {
        report.warnings.push_back(dovecot.path + " is not an executable program");
        dovecot.path.clear();
        return;
    }
    dovecot.found = true;
    const auto version = ChildProcess::run(dovecot.path, {"--version"});
    if (!version || version->exitCode != 0) {
        report.warnings.push_back(dovecot.path + " --version failed" +
                                  (version ? ": " + protocol::parseDovecotVersion(version->output)
                                           : ": " + version.error().message));
    } else {
        dovecot.version = protocol::parseDovecotVersion(version->output);
        if (protocol::isCurOnlyDovecotVersion(dovecot.version)) {
            dovecot.curOnlyBuild = true;
            dovecot.curOnlyEvidence = "version-suffix";
        }
    }

    // doveconf belongs to the same installation: look beside it (sbin/ and bin/ of one
    // prefix) before $PATH, so a patched prefix is not judged by the stock doveconf.
    const std::string sbin = directoryOf(dovecot.path);
    std::string doveconf;
    for (const auto &candidate : {sbin + "/doveconf", directoryOf(sbin) + "/bin/doveconf"}) {
        if (::access(candidate.c_str(), X_OK) == 0) {
            doveconf = candidate;
            break;
        }
    }
    if (doveconf.empty())
        doveconf = ChildProcess::findProgram("doveconf", kSystemDirectories);
    if (doveconf.empty()) {
        report.warnings.push_back("doveconf not found beside " + dovecot.path);
        return;
    }
    const auto setting = ChildProcess::run(doveconf, {"-h", "maildir_cur_only"});
    if (!setting) {
        report.warnings.push_back(setting.error().message);
        return;
    }
    dovecot.curOnlyEnabled = protocol::parseCurOnlySetting(setting->output, setting->exitCode);
    if (dovecot.curOnlyEnabled && !dovecot.curOnlyBuild) {
        dovecot.curOnlyBuild = true;
        dovecot.curOnlyEvidence = "doveconf-setting";
    }
    // A stock doveconf prints nothing (or "Unknown setting") for a setting it does not know.
    const std::string answer = protocol::parseDovecotVersion(setting->output);
    if (!dovecot.curOnlyEnabled && !answer.empty() &&
        answer.find("Unknown setting") == std::string::npos)
        report.warnings.push_back(doveconf + " -h maildir_cur_only: " + answer);
}

void probeSyncthing(protocol::ProbeReport &report, const std::string &explicitPath)
{
    auto &syncthing = report.syncthing;
    syncthing.path = explicitPath.empty()
                         ? ChildProcess::findProgram("syncthing", kSystemDirectories)
                         : explicitPath;
    if (syncthing.path.empty())
        return;
    if (::access(syncthing.path.c_str(), X_OK) != 0) {
        report.warnings.push_back(syncthing.path + " is not an executable program");
        syncthing.path.clear();
        return;
    }
    syncthing.found = true;
    const auto version = ChildProcess::run(syncthing.path, {"--version"});
    if (!version || version->exitCode != 0) {
        report.warnings.push_back(syncthing.path + " --version failed");
        return;
    }
    syncthing.version = protocol::parseSyncthingVersion(version->output);
}

Result<nlohmann::json> probe(const nlohmann::json &params, const maildir::ProgressSink &progress,
                             const protocol::ItemSink &)
{
    const auto path = protocol::optionalPath(params, "path");
    if (!path)
        return tl::unexpected(path.error());
    const auto dovecotPath = protocol::optionalPath(params, "dovecot");
    if (!dovecotPath)
        return tl::unexpected(dovecotPath.error());
    const auto syncthingPath = protocol::optionalPath(params, "syncthing");
    if (!syncthingPath)
        return tl::unexpected(syncthingPath.error());

    constexpr std::uint64_t kSteps = 5;
    protocol::ProbeReport report;
    report.agentVersion = std::string(protocol::mailmeshVersion());

    progress.report(0, kSteps, "os");
    probeOs(report);
    progress.report(1, kSteps, "disk");
    if (*path)
        if (auto disk = probeDisk(report, **path); !disk)
            return tl::unexpected(disk.error());
    progress.report(2, kSteps, "inotify");
    probeInotify(report);
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "probe was cancelled");
    progress.report(3, kSteps, "dovecot");
    probeDovecot(report, dovecotPath->value_or(""));
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "probe was cancelled");
    progress.report(4, kSteps, "syncthing");
    probeSyncthing(report, syncthingPath->value_or(""));
    progress.report(kSteps, kSteps);
    return nlohmann::json(report);
}

std::string formatProbe(const nlohmann::json &json)
{
    protocol::ProbeReport r = json.get<protocol::ProbeReport>();
    std::ostringstream out;
    out << "host          " << r.hostname << " (" << r.architecture << ")\n"
        << "os            " << r.os.prettyName << ", kernel " << r.os.kernelRelease << "\n";
    if (r.disk)
        out << "disk          " << r.disk->path << ": " << r.disk->availableBytes / (1024 * 1024)
            << " MiB available of " << r.disk->totalBytes / (1024 * 1024) << " MiB, "
            << r.disk->freeInodes << " inodes free\n";
    out << "inotify       max_user_watches "
        << (r.inotify.maxUserWatches ? std::to_string(*r.inotify.maxUserWatches) : "?")
        << ", max_user_instances "
        << (r.inotify.maxUserInstances ? std::to_string(*r.inotify.maxUserInstances) : "?") << "\n";
    out << "dovecot       "
        << (r.dovecot.found ? r.dovecot.path + " " + r.dovecot.version : std::string("not found"));
    if (r.dovecot.found)
        out << (r.dovecot.curOnlyBuild ? ", cur/-only build" : ", stock build")
            << (r.dovecot.curOnlyEnabled
                    ? (*r.dovecot.curOnlyEnabled ? " (enabled)" : " (disabled)")
                    : "");
    out << "\nsyncthing     "
        << (r.syncthing.found ? r.syncthing.path + " " + r.syncthing.version
                              : std::string("not found"));
    for (const auto &warning : r.warnings)
        out << "\nwarning       " << warning;
    return out.str();
}

} // namespace

std::vector<protocol::Command> probeCommands()
{
    protocol::Command command;
    command.name = "probe";
    command.summary = "describe this node: OS, disk, inotify limits, Dovecot, Syncthing";
    command.arguments = {{"path", protocol::ValueKind::Path, /*optional=*/true, false}};
    command.options = {
        {"--dovecot", "dovecot", protocol::ValueKind::Path, "the dovecot binary to check"},
        {"--syncthing", "syncthing", protocol::ValueKind::Path, "the syncthing binary to check"},
    };
    command.run = probe;
    command.formatText = formatProbe;
    return {std::move(command)};
}

} // namespace mm::agent
