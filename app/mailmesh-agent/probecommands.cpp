// `probe`: what a node is (OS, architecture, disk, inotify limits) and what it runs (Dovecot,
// whether it is the cur/-only build, Syncthing: its config and processes, the agent's
// watch-changes service), plus an inventory of the mail root. Read-only. No NSS and no shell:
// uname(2), statvfs(3), files under /etc and /proc (user names from /etc/passwd itself), and
// programs run directly.

#include "childprocess.h"
#include "probeinventory.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/mailroot.h"
#include "maildir/statedir.h"
#include "node/dovecotversion.h"
#include "node/osrelease.h"
#include "node/passwd.h"
#include "node/proc.h"
#include "node/syncthingconfig.h"
#include "node/textlines.h"

#include "protocol/command.h"
#include "protocol/params.h"
#include "protocol/probereport.h"
#include "protocol/version.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

namespace mm::agent {

namespace {

const std::vector<std::string> kSystemDirectories{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                                  "/usr/bin",        "/sbin",          "/bin"};

// Whatever the probe reads is bounded and read without following a symlink or opening a FIFO
// (maildir::readBoundedFile): a node's files are not trusted to be what their names say.
constexpr std::size_t kSmallFileLimit = 1 << 20;        // os-release, /proc files
constexpr std::size_t kPasswdLimit = 32u << 20;         // /etc/passwd with many users
constexpr std::size_t kSyncthingConfigLimit = 16u << 20; // config.xml with many devices and folders

std::optional<std::string> readSmallFile(const std::string &path, std::size_t limit = kSmallFileLimit,
                                         std::string *why = nullptr)
{
    auto text = maildir::readBoundedFile(path, limit);
    if (!text) {
        if (why)
            *why = text.error().message;
        return std::nullopt;
    }
    return std::move(*text);
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
    auto fields = node::parseOsRelease(*text);
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

void probeDovecot(protocol::ProbeReport &report, const std::string &explicitPath,
                  const std::string &configFile)
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
                                  (version ? ": " + node::dovecotVersionLine(version->output)
                                           : ": " + version.error().message));
    } else {
        dovecot.version = node::dovecotVersionLine(version->output);
        if (node::isCurOnlyDovecotVersion(dovecot.version)) {
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
    std::vector<std::string> arguments;
    if (!configFile.empty())
        arguments = {"-c", configFile};
    const std::string settingName = node::curOnlySettingName(dovecot.version);
    arguments.insert(arguments.end(), {"-h", settingName});
    const auto setting = ChildProcess::run(doveconf, arguments);
    if (!setting) {
        report.warnings.push_back(setting.error().message);
        return;
    }
    dovecot.curOnlyEnabled = node::parseCurOnlySetting(setting->output, setting->exitCode);
    if (dovecot.curOnlyEnabled && !dovecot.curOnlyBuild) {
        dovecot.curOnlyBuild = true;
        dovecot.curOnlyEvidence = "doveconf-setting";
    }
    // A stock doveconf prints nothing (or "Unknown setting") for a setting it does not know.
    const std::string answer(node::text::firstLine(setting->output));
    if (!dovecot.curOnlyEnabled && !answer.empty() &&
        answer.find("Unknown setting") == std::string::npos)
        report.warnings.push_back(doveconf + " -h " + settingName + ": " + answer);
}

std::map<std::uint32_t, std::string> readUsers(protocol::ProbeReport &report)
{
    std::string why;
    const auto text = readSmallFile("/etc/passwd", kPasswdLimit, &why);
    if (!text) {
        report.warnings.push_back("/etc/passwd is not readable (" + why + "): user names are left empty");
        return {};
    }
    return node::parsePasswd(*text);
}

void probeSyncthingConfig(protocol::ProbeReport &report, const std::string &home)
{
    auto &syncthing = report.syncthing;
    syncthing.home = home;
    const std::string file = home + "/config.xml";
    std::string why;
    const auto text = readSmallFile(file, kSyncthingConfigLimit, &why);
    if (!text) {
        report.warnings.push_back(file + " is not readable: " + why);
        return;
    }
    syncthing.config = node::parseSyncthingConfig(*text);
    if (!syncthing.config) {
        report.warnings.push_back(file + " is not a Syncthing configuration");
        return;
    }
    const auto &config = *syncthing.config;
    if (config.guiAddress.empty())
        report.warnings.push_back(file + " sets no GUI address");
    else if (!node::isLoopbackGuiAddress(config.guiAddress))
        report.warnings.push_back("Syncthing's GUI and REST API listen on " + config.guiAddress +
                                  ", not on loopback (" + file +
                                  "): bind it to 127.0.0.1 and reach it through SSH");
}

// Scans /proc for processes named syncthing (comm, or the basename of exe), and for the agent's
// `watch-changes` service beside them (comm, then its command line). Zombies are left out.
// Another user's exe link is unreadable without privileges; comm and cmdline are readable by all.
void probeProcesses(protocol::ProbeReport &report,
                    const std::map<std::uint32_t, std::string> &users)
{
    maildir::UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc.valid()) {
        report.warnings.push_back(std::string("/proc is not readable: ") + std::strerror(errno));
        return;
    }
    std::vector<std::int64_t> pids;
    {
        maildir::DirReader reader(proc.get());
        maildir::DirEntry entry;
        while (reader.next(entry)) {
            std::int64_t pid = 0;
            const auto [ptr, ec] =
                std::from_chars(entry.name.data(), entry.name.data() + entry.name.size(), pid);
            if (entry.type == DT_DIR && ec == std::errc() &&
                ptr == entry.name.data() + entry.name.size())
                pids.push_back(pid);
        }
    }
    std::sort(pids.begin(), pids.end());
    for (const std::int64_t pid : pids) {
        const std::string dir = "/proc/" + std::to_string(pid) + "/";
        const auto statText = readSmallFile(dir + "stat");
        const auto stat = statText ? node::parseProcStat(*statText) : std::nullopt;
        if (!stat || stat->state == 'Z')
            continue; // gone, or a zombie
        const auto userOf = [&users](std::uint32_t uid) {
            const auto user = users.find(uid);
            return user == users.end() ? std::string() : user->second;
        };
        if (node::isAgentCommandName(stat->comm)) {
            const auto cmdline = readSmallFile(dir + "cmdline");
            const auto watcher =
                cmdline ? node::parseChangeWatcherCmdline(*cmdline) : std::nullopt;
            const auto status = watcher ? readSmallFile(dir + "status") : std::nullopt;
            const auto uid = status ? node::parseProcStatusUid(*status) : std::nullopt;
            if (uid) // else no watcher, or it exited between the reads
                report.changeWatchers.push_back({pid, *uid, userOf(*uid), watcher->syncthingHome});
            continue;
        }
        bool named = stat->comm == "syncthing";
        if (!named) {
            std::array<char, 4096> target{};
            const ssize_t n = ::readlink((dir + "exe").c_str(), target.data(), target.size() - 1);
            std::string_view exe(target.data(), n > 0 ? std::size_t(n) : 0);
            if (exe.ends_with(" (deleted)"))
                exe.remove_suffix(10);
            named = exe.substr(exe.rfind('/') + 1) == "syncthing";
        }
        if (!named)
            continue;
        const auto status = readSmallFile(dir + "status");
        const auto uid = status ? node::parseProcStatusUid(*status) : std::nullopt;
        if (!uid)
            continue; // exited between the reads
        protocol::ProbeReport::SyncthingProcess process;
        process.pid = pid;
        process.ppid = stat->ppid;
        process.uid = *uid;
        process.user = userOf(*uid);
        if (const auto cmdline = readSmallFile(dir + "cmdline"))
            process.home = node::parseCmdlineHome(*cmdline);
        report.syncthing.processes.push_back(std::move(process));
    }
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
    syncthing.version = node::parseSyncthingVersion(version->output);
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
    const auto dovecotConfig = protocol::optionalPath(params, "dovecotConfig");
    if (!dovecotConfig)
        return tl::unexpected(dovecotConfig.error());
    const auto syncthingPath = protocol::optionalPath(params, "syncthing");
    if (!syncthingPath)
        return tl::unexpected(syncthingPath.error());
    const auto syncthingHome = protocol::optionalPath(params, "syncthingHome");
    if (!syncthingHome)
        return tl::unexpected(syncthingHome.error());
    const auto skipInventory = protocol::optionalBool(params, "skipInventory", false);
    if (!skipInventory)
        return tl::unexpected(skipInventory.error());

    constexpr std::uint64_t kSteps = 6;
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
    probeDovecot(report, dovecotPath->value_or(""), dovecotConfig->value_or(""));
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "probe was cancelled");
    progress.report(4, kSteps, "syncthing");
    probeSyncthing(report, syncthingPath->value_or(""));
    if (*syncthingHome)
        probeSyncthingConfig(report, **syncthingHome);
    const auto users = readUsers(report);
    probeProcesses(report, users);
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "probe was cancelled");
    progress.report(5, kSteps, "inventory");
    if (*path)
        if (auto root = maildir::MailRoot::open(**path))
            report.defaultStateDir = maildir::StateDir::defaultPathFor(root->path());
    if (*path && !*skipInventory) {
        // The walk reports folders; on the wire they stay step 5 of 6, naming the folder.
        const maildir::ProgressSink walkProgress = progress.withCallback(
            [&progress](std::uint64_t, std::uint64_t, std::string_view folder) {
                progress.report(5, kSteps, folder);
            });
        auto root = maildir::MailRoot::open(**path);
        if (!root) {
            report.warnings.push_back("no inventory of " + **path + ": " + root.error().message);
        } else {
            auto inventory = takeInventory(*root, users, walkProgress);
            if (!inventory && inventory.error().code == ErrorCode::Cancelled)
                return tl::unexpected(inventory.error());
            if (!inventory)
                report.warnings.push_back("no inventory of " + **path + ": " +
                                          inventory.error().message);
            else
                report.inventory = std::move(*inventory);
        }
    }
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
    if (r.syncthing.home)
        out << "\nsyncthing home " << *r.syncthing.home
            << (r.syncthing.config ? ", GUI " + r.syncthing.config->guiAddress +
                                         (r.syncthing.config->guiTls ? " (TLS)" : "")
                                   : std::string(", config.xml not read"));
    for (const auto &process : r.syncthing.processes)
        out << "\nsyncthing pid " << process.pid << " as "
            << (process.user.empty() ? std::to_string(process.uid) : process.user)
            << (process.home ? ", --home " + *process.home : std::string());
    for (const auto &watcher : r.changeWatchers)
        out << "\nwatch-changes pid " << watcher.pid << " as "
            << (watcher.user.empty() ? std::to_string(watcher.uid) : watcher.user)
            << (watcher.syncthingHome ? ", --syncthing-home " + *watcher.syncthingHome
                                      : std::string());
    if (r.inventory)
        out << "\ninventory     " << r.inventory->maildirs << " Maildirs, " << r.inventory->folders
            << " folders (" << r.inventory->classicFolders << " classic, "
            << r.inventory->curOnlyFolders << " cur/-only), " << r.inventory->messages
            << " messages, " << r.inventory->bytes / (1024 * 1024) << " MiB, "
            << r.inventory->inotifyWatchesNeeded << " inotify watches needed";
    if (r.inventory)
        for (const auto &owner : r.inventory->owners)
            out << "\nowner         "
                << (owner.user.empty() ? "uid " + std::to_string(owner.uid) : owner.user) << ": "
                << owner.files << " files";
    for (const auto &warning : r.warnings)
        out << "\nwarning       " << warning;
    return out.str();
}

} // namespace

std::vector<protocol::Command> probeCommands()
{
    protocol::Command command;
    command.name = "probe";
    command.summary =
        "describe this node: OS, disk, inotify limits, Dovecot, Syncthing, mail root inventory";
    command.arguments = {{"path", protocol::ValueKind::Path, /*optional=*/true, false}};
    command.options = {
        {"--dovecot", "dovecot", protocol::ValueKind::Path, "the dovecot binary to check"},
        {"--dovecot-config", "dovecotConfig", protocol::ValueKind::Path,
         "the dovecot.conf to read the cur/-only setting from (doveconf -c)"},
        {"--syncthing", "syncthing", protocol::ValueKind::Path, "the syncthing binary to check"},
        {"--syncthing-home", "syncthingHome", protocol::ValueKind::Path,
         "Syncthing's home directory: read its config.xml"},
        {"--skip-inventory", "skipInventory", protocol::ValueKind::Flag,
         "report no inventory of PATH (no walk of the mail tree)"},
    };
    command.run = probe;
    command.formatText = formatProbe;
    return {std::move(command)};
}

} // namespace mm::agent
