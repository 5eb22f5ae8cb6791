// What one cluster snapshot costs the app at scale: 10 nodes x 10,000 folders, generated as the
// agent's `scan` replies (serialised by the same code the agent uses). Measured as the app
// process's CPU time, best of several rounds:
//   ingest    each node's scan reply: JSON parse and mailbox counts (once per node scan);
//   snapshot  every node's counts assembled into one ClusterState, and the dashboard's models
//             updated from it (the first snapshot, then one where a single count changed).
// Baseline in the same run: parsing the same replies with QJsonDocument alone.
// Goal (issue: cluster workflows part 2): one snapshot under 100 ms of CPU.

#include "cluster/monitor/clusterstate.h"
#include "maildir/scan.h"
#include "ui/dashboardwidget.h"

#include <QApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <vector>

namespace {

constexpr int kNodes = 10;
constexpr int kFolders = 10'000;
constexpr int kRounds = 5;

double processCpuMs()
{
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double bestCpuMs(const std::function<void()> &work)
{
    double best = 1e300;
    for (int round = 0; round < kRounds; ++round) {
        const double start = processCpuMs();
        work();
        best = std::min(best, processCpuMs() - start);
    }
    return best;
}

// 2,000 users with an INBOX and four Maildir++ folders each, converted to cur/-only; message
// counts vary per folder, and node 7 lags a little on every hundredth folder.
QByteArray scanReply(int node)
{
    mm::maildir::ScanReport report;
    report.root = "/var/vmail";
    for (int i = 0; i < kFolders; ++i) {
        const int user = i / 5;
        static const char *const subfolders[] = {"", ".Sent", ".Drafts", ".Trash", ".Archive.2024"};
        mm::maildir::FolderScan scan;
        scan.folder.maildirRelPath = "example.org/user" + std::to_string(user) + "/Maildir";
        scan.folder.relPath = scan.folder.maildirRelPath + (i % 5 ? "/" + std::string(subfolders[i % 5]) : "");
        scan.folder.name = i % 5 ? std::string(subfolders[i % 5]).substr(1) : "INBOX";
        scan.folder.layout = i % 5 ? mm::maildir::FolderLayout::MaildirPlusPlus : mm::maildir::FolderLayout::Inbox;
        scan.folder.state = mm::maildir::FolderState::CurOnly;
        scan.folder.hasTmp = true;
        scan.curMessages = static_cast<std::uint64_t>((i * 37) % 4000) - (node == 7 && i % 100 == 0 ? 1 : 0);
        report.folders.push_back(scan);
    }
    const nlohmann::json json = report;
    const std::string text = json.dump();
    return QByteArray(text.data(), static_cast<qsizetype>(text.size()));
}

QString nodeId(int node)
{
    return QStringLiteral("mx%1").arg(node + 1);
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);

    std::vector<QByteArray> replies;
    for (int node = 0; node < kNodes; ++node)
        replies.push_back(scanReply(node));

    const double parseOnlyMs = bestCpuMs([&] {
        for (const QByteArray &reply : replies)
            (void)QJsonDocument::fromJson(reply).object().value(QStringLiteral("folders")).toArray().size();
    });

    QList<mm::cluster::NodeContribution> nodes;
    const double ingestMs = bestCpuMs([&] {
        nodes.clear();
        for (int node = 0; node < kNodes; ++node) {
            const QJsonArray folders = QJsonDocument::fromJson(replies[std::size_t(node)]).object().value(QStringLiteral("folders")).toArray();
            mm::cluster::ScanInventory inventory = mm::cluster::inventoryFromScan(nodeId(node), folders);
            mm::cluster::NodeContribution contribution;
            contribution.state.id = nodeId(node);
            contribution.state.reachability = mm::cluster::Reachability::Reachable;
            contribution.mailboxCounts = std::move(inventory.mailboxCounts);
            nodes << contribution;
        }
    });

    // A fresh dashboard each round for the first snapshot; one dashboard for the updates.
    const double firstSnapshotMs = bestCpuMs([&] {
        mm::ui::DashboardWidget dashboard;
        dashboard.setSnapshot(mm::cluster::assembleClusterState(nodes));
    });
    mm::ui::DashboardWidget dashboard;
    dashboard.resize(1200, 800);
    dashboard.show();
    dashboard.setSnapshot(mm::cluster::assembleClusterState(nodes));
    QCoreApplication::processEvents();
    int tick = 0;
    const double updateMs = bestCpuMs([&] {
        nodes[3].mailboxCounts[nodes[3].mailboxCounts.firstKey()] += ++tick;
        dashboard.setSnapshot(mm::cluster::assembleClusterState(nodes));
    });
    const double assembleOnlyMs = bestCpuMs([&] { (void)mm::cluster::assembleClusterState(nodes); });

    std::printf("%d nodes x %d folders (%.1f MB of scan replies), CPU ms, best of %d:\n", kNodes, kFolders,
                static_cast<double>(replies.front().size()) * kNodes / 1e6, kRounds);
    std::printf("  baseline: QJsonDocument parse of the replies  %8.1f\n", parseOnlyMs);
    std::printf("  ingest: parse + mailbox counts, all nodes       %8.1f  (%.2fx the bare parse)\n", ingestMs,
                ingestMs / std::max(0.01, parseOnlyMs));
    std::printf("  snapshot: assemble only                         %8.1f\n", assembleOnlyMs);
    std::printf("  snapshot: assemble + dashboard, first           %8.1f\n", firstSnapshotMs);
    std::printf("  snapshot: assemble + dashboard, one count moved %8.1f\n", updateMs);
    const double worst = std::max(firstSnapshotMs, updateMs);
    std::printf("goal: one snapshot under 100 ms of CPU -> %.1f ms: %s\n", worst, worst < 100 ? "met" : "NOT met");
    return 0;
}
