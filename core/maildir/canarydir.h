#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// A probe's name: "<origin node>.<sequence>.<unix ms>", e.g. "node1.42.1765015200123". The
// milliseconds are the app's clock when it made the name; they make names unique across runs,
// they are never compared with a node's clock.
struct CanaryProbeName
{
    std::string origin;
    std::uint64_t sequence = 0;
    std::int64_t madeAtMs = 0;

    std::string text() const;
    static std::optional<CanaryProbeName> parse(std::string_view name);
};

// A probe as one node holds it.
struct CanaryProbe
{
    std::string name;
    std::string origin;
    std::uint64_t sequence = 0;
    std::int64_t madeAtMs = 0;
    std::int64_t ageSeconds = 0; // by this node's clock and the file's mtime
    std::uint64_t size = 0;
};

struct CanaryListing
{
    static constexpr int kSchemaVersion = 1;
    std::vector<CanaryProbe> probes;
};

// What canary-remove selects: one probe by name, or every probe older than a limit, of one origin
// or of any.
struct CanarySweep
{
    std::optional<std::string> name;
    std::optional<std::int64_t> olderThanSeconds;
    std::optional<std::string> origin;
    bool dryRun = false;
};

struct CanaryRemoval
{
    static constexpr int kSchemaVersion = 1;
    bool dryRun = false;
    std::vector<std::string> removed;  // probe names (or tmp/NAME of a write a crash cut short)
    std::vector<std::string> problems; // entries of the canary directory left alone, and why
};

struct CanaryWrite
{
    static constexpr int kSchemaVersion = 1;
    std::string name;
    std::string path; // relative to ROOT
};

// The replication canary's directory, ROOT/.mailmesh-canary (docs/monitoring.md, "The
// replication canary"). It lies in the shared mail root, so a probe travels the way mail does,
// but outside every Maildir: no IMAP client lists it and the walkers never enter it. Probes are
// not mail: they are written and deleted here directly, and nothing outside this directory is
// ever touched. A root that is itself a Maildir is refused: there a dot-directory is an IMAP
// folder.
class CanaryDir
{
public:
    static constexpr const char *kDirName = ".mailmesh-canary";

    // Writes tmp/NAME and renames it to NAME (never over an existing probe), so Syncthing, which
    // ignores every tmp/'s contents, only ever sees a whole probe.
    static Result<CanaryWrite> write(const MailRoot &root, const CanaryProbeName &name,
                                     std::time_t now = std::time(nullptr));
    // The probes present; an absent directory holds none.
    static Result<CanaryListing> list(const MailRoot &root, std::time_t now = std::time(nullptr));
    static Result<CanaryRemoval> remove(const MailRoot &root, const CanarySweep &sweep,
                                        std::time_t now = std::time(nullptr));
};

void to_json(nlohmann::json &j, const CanaryProbe &probe);
void to_json(nlohmann::json &j, const CanaryListing &listing);
void to_json(nlohmann::json &j, const CanaryRemoval &removal);
void to_json(nlohmann::json &j, const CanaryWrite &write);

} // namespace mm::maildir
