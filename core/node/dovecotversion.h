#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::node {

// The one reading of `dovecot --version` (the probe, the sandbox and the cluster all use it):
//   "2.3.19.1 (9b53102964)"             Debian 12's stock build
//   "2.3.19.1+mailmesh5 (9b53102964)"   Mailmesh's cur/-only build of it
//   "2.4.1-4 (7d8c0e5759)"              2.4 carries Debian's revision in its version
//   "2.4.1-4+mailmesh5 (7d8c0e5759)"    and our build appends to it
// Only the dotted numbers take part in comparisons; the build suffix tells Mailmesh's cur/-only
// build from stock (docs/maildir-dovecot-syncthing.md), and the parenthesised part is the git id.
// Debian package versions ("1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh5") are another grammar:
// cluster::DebianVersion reads those.
struct DovecotVersion
{
    std::vector<int> numbers; // {2, 3, 19, 1}
    std::string suffix;       // "+mailmesh5", "-4+mailmesh5", empty for stock
    std::string word;         // the numbers and the suffix as printed: "2.4.1-4+mailmesh5"
    std::string text;         // the first line as printed, trimmed

    // nullopt when the output does not start with a dotted number (an error message, nothing).
    // Leading and trailing white space are ignored.
    static std::optional<DovecotVersion> parse(std::string_view output);

    int major() const { return number(0); }
    int minor() const { return number(1); }
    // The dotted number at `index`; missing parts count as 0.
    int number(std::size_t index) const { return index < numbers.size() ? numbers[index] : 0; }
    // 2.4 and later: the configuration syntax with dovecot_config_version, mail_driver and
    // mail_path, and maildir settings kept in the `maildir` named filter.
    bool isAtLeast24() const { return major() > 2 || (major() == 2 && minor() >= 4); }

    // "+mailmesh<N>" anywhere in the suffix: 2.4's version carries Debian's revision first.
    bool isMailmeshBuild() const;
    // The number after "+mailmesh", the revision of the cur/-only patch; 0 when this is not our
    // build or the number cannot be read.
    int mailmeshRevision() const;
    std::string numeric() const; // "2.3.19.1"
    std::string line() const;    // major.minor: "2.3", which decides the configuration syntax

    // <0, 0, >0 on the dotted numbers; missing trailing parts count as 0 (2.3.19 == 2.3.19.0).
    static int compare(const DovecotVersion &a, const DovecotVersion &b);
};

// `dovecot --version` as the probe reports it: the first line, trimmed ("" for no output).
std::string dovecotVersionLine(std::string_view output);
// Whether a reported version is Mailmesh's cur/-only build.
bool isCurOnlyDovecotVersion(std::string_view version);
// The name doveconf -h takes for maildir_cur_only: 2.4 keeps maildir settings in the `maildir`
// named filter, and its doveconf prints the global default for the bare name
// ("maildir/maildir_cur_only"); 2.3, and a version that cannot be read, take "maildir_cur_only".
std::string curOnlySettingName(std::string_view dovecotVersion);
// `doveconf -h maildir_cur_only`: "yes"/"no"; nullopt when the setting is unknown (a stock
// 2.3 doveconf prints nothing and exits 0; others fail with "Unknown setting").
std::optional<bool> parseCurOnlySetting(std::string_view output, int exitCode);

} // namespace mm::node
