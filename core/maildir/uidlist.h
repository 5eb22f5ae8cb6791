#pragma once

#include "common/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// One line of dovecot-uidlist after the header: `UID [<key><value> ...] :<file name>` (v3),
// `UID <file name>` (v1). Dovecot 2.3 writes the BASE; files written by 2.2 (and some 2.3 paths)
// carry the whole name with `:2,FLAGS`, so `base` is always derived from `fileName`.
struct UidlistRecord
{
    std::uint32_t uid = 0;
    std::string fileName; // as written in the file
    std::string base;     // everything before the first ':' of fileName
    std::map<char, std::string>
        extensions; // S psize, W vsize, P pop3 uidl, O pop3 order, G guid, ...
};

// Something Dovecot itself would complain about ("Broken file ... line N"); the parser skips the
// line (or the field) and carries on, so one bad line does not hide the rest of the folder.
struct UidlistProblem
{
    std::size_t line = 0; // 1-based
    std::string reason;
};

// The parsed dovecot-uidlist of one folder: the UID <-> BASE map that the cross-node diff
// compares. Key letters follow Dovecot 2.3's maildir-uidlist.h: header V (uidvalidity), N (next
// uid), G (mailbox guid), other header keys (e.g. P, the POP3 UIDL format) kept verbatim; record
// keys are single capital letters.
class Uidlist
{
public:
    static constexpr int kSchemaVersion = 1;

    int version = 0; // 1, 2 or 3 (the first field of the header line)
    std::uint32_t uidValidity = 0;
    std::uint32_t nextUid = 0;
    std::string guid; // 32 hex digits, empty when absent
    std::map<char, std::string> headerExtensions;
    std::vector<UidlistRecord> records; // in file order, UIDs strictly increasing
    std::vector<UidlistProblem> problems;

    // Fails (InvalidData) only when the header is unusable, as Dovecot then discards the file.
    static Result<Uidlist> parse(std::string_view text);
    // Reads and parses a file; NotFound when it does not exist (a folder Dovecot never opened).
    static Result<Uidlist> read(const std::string &path);

    // The record for a UID, or nullptr.
    const UidlistRecord *findUid(std::uint32_t uid) const;
};

void to_json(nlohmann::json &j, const UidlistRecord &record);
void to_json(nlohmann::json &j, const UidlistProblem &problem);
void to_json(nlohmann::json &j, const Uidlist &uidlist);
void from_json(const nlohmann::json &j, UidlistRecord &record);
void from_json(const nlohmann::json &j, Uidlist &uidlist);

} // namespace mm::maildir
