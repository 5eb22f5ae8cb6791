// `dupes` over N messages (default 1,000,000) in folders of 10,000: peak RSS (goal < 200 MB) and
// wall time next to `cat` of the same files, measured in the same run on the same warm cache.
// Usage: bench_dupes [MESSAGES]   (MAILMESH_BENCH_DIR: where the tree goes, default /tmp)

#include "benchtree.h"

#include <string>

int main(int argc, char **argv)
{
    const long messages = argc > 1 ? std::atol(argv[1]) : 1000000;
    // MAILMESH_BENCH_PER_FOLDER: messages per folder (memory grows with the largest folder).
    const long perFolder = std::getenv("MAILMESH_BENCH_PER_FOLDER")
                               ? std::atol(std::getenv("MAILMESH_BENCH_PER_FOLDER"))
                               : 10000;
    const std::string dir = bench::scratchDir("dupes");
    const std::string root = dir + "/Maildir";
    std::printf("generating %ld messages in %s ...\n", messages, root.c_str());
    std::fflush(stdout);

    long files = 0, expectedGroups = 0;
    std::string folder;
    for (long i = 0; i < messages; ++i) {
        if (i % perFolder == 0) {
            folder = i == 0 ? root : root + "/.F" + std::to_string(i / perFolder);
            bench::makeFolder(folder);
            if (i != 0)
                bench::writeFile(folder + "/maildirfolder", {});
        }
        const std::string id = std::to_string(1700000000 + i);
        std::string msg =
            "Return-Path: <sender@example.org>\nReceived: from mx.example.org by node1\n"
            "Message-ID: <" +
            id +
            "@example.org>\nFrom: a@example.org\n"
            "To: b@example.org\nSubject: message " +
            id + "\n\n";
        for (int line = 0; line < 8; ++line)
            msg += "This is the body of message " + id + ", line " + std::to_string(line) + ".\n";
        const std::string base =
            id + ".M" + std::to_string(i) + "P1.node1,S=" + std::to_string(msg.size());
        bench::writeFile(folder + "/cur/" + base + ":2,S", msg);
        ++files;
        if (i % 100 == 0) { // flag divergence: a second name of the same BASE
            bench::writeFile(folder + "/cur/" + base + ":2,FS", msg);
            ++files, ++expectedGroups;
        }
        if (i % 250 == 1) { // same message delivered twice
            bench::writeFile(folder + "/cur/" + id + ".M" + std::to_string(i) + "P2.node2:2,", msg);
            ++files, ++expectedGroups;
        }
    }
    std::printf("%ld files, %ld duplicate groups planted\n", files, expectedGroups);

    const std::string catCommand = "find '" + root + "' -type f -print0 | xargs -0 cat > /dev/null";
    const bench::Measure warm = bench::run({"sh", "-c", catCommand}); // warms the page cache
    const std::string report = dir + "/dupes.json";
    const bench::Measure dupes = bench::run({bench::agentPath(), "dupes", root, "--json"}, report);
    const bench::Measure cat = bench::run({"sh", "-c", catCommand});
    const long groupsFound = bench::countIn(report, "\"removable\":");
    bench::removeTree(dir);

    const double catSeconds = std::min(warm.seconds, cat.seconds);
    std::printf("messages      %ld (files %ld, %ld per folder)\n", messages, files, perFolder);
    std::printf("groups found  %ld of %ld planted\n", groupsFound, expectedGroups);
    std::printf("dupes         %.2f s, peak RSS %.1f MB (exit status %d)\n", dupes.seconds,
                dupes.maxRssKb / 1024.0, WEXITSTATUS(dupes.status));
    std::printf("cat baseline  %.2f s (find | xargs cat, same files, warm cache)\n", catSeconds);
    std::printf("ratio dupes/cat = %.2f\n", dupes.seconds / catSeconds);
    std::printf("peak RSS goal < 200 MB: %s\n", dupes.maxRssKb < 200 * 1024 ? "met" : "MISSED");
    // RSS is a bound the design promises (streaming, no bodies held); time is only reported.
    return dupes.status == 0 && dupes.maxRssKb < 200 * 1024 && groupsFound == expectedGroups ? 0 : 1;
}
