// `manifest` run twice on an unchanged tree: the second run must read no bodies (content hashes
// come from the cache keyed by BASE, size and mtime). Prints first/second; the goal is >= 20x.
// Messages are 10-90 KB (about 50 KB on average, a usual mailbox mix).
// Usage: bench_manifest [MESSAGES]   (default 20,000; MAILMESH_BENCH_DIR: where the tree goes)

#include "benchtree.h"

#include <random>
#include <string>

int main(int argc, char **argv)
{
    const long messages = argc > 1 ? std::atol(argv[1]) : 20000;
    const std::string dir = bench::scratchDir("manifest");
    const std::string root = dir + "/Maildir";
    const std::string state = dir + "/state";
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> kb(10, 90);
    std::string filler;
    for (int i = 0; i < 90 * 1024 / 64; ++i)
        filler += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do e\n";
    long bytes = 0;
    std::string folder;
    for (long i = 0; i < messages; ++i) {
        if (i % 5000 == 0) {
            folder = i == 0 ? root : root + "/.F" + std::to_string(i / 5000);
            bench::makeFolder(folder);
            if (i != 0)
                bench::writeFile(folder + "/maildirfolder", {});
        }
        const std::string id = std::to_string(1700000000 + i);
        std::string msg = "Message-ID: <" + id + "@example.org>\nSubject: " + id + "\n\n";
        msg += filler.substr(0, static_cast<std::size_t>(kb(rng)) * 1024);
        bytes += static_cast<long>(msg.size());
        bench::writeFile(folder + "/cur/" + id + ".M" + std::to_string(i) + "P1.node1:2,S", msg);
    }
    std::printf("%ld messages, %.0f MB\n", messages, bytes / 1048576.0);

    const std::vector<std::string> cmd{bench::agentPath(), "manifest", root,
                                       "--state",          state,      "--json"};
    const bench::Measure first = bench::run(cmd);
    const bench::Measure second = bench::run(cmd);
    bench::removeTree(dir);

    std::printf("first run     %.2f s (hashes every body)\n", first.seconds);
    std::printf("second run    %.2f s (unchanged tree, cache warm)\n", second.seconds);
    std::printf("ratio first/second = %.1fx (goal >= 20x)\n", first.seconds / second.seconds);
    return first.status == 0 && second.status == 0 ? 0 : 1;
}
