#include "node/syncthingconfig.h"

#include "node/textlines.h"

#include <cstdint>
#include <cstdlib>

namespace mm::node {

using text::firstLine;
using text::trim;

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

// The top-level elements of <configuration>; nullopt when the document has none.
std::optional<std::vector<XmlElement>> configurationSections(std::string_view xml)
{
    const auto document = childElements(xml);
    const XmlElement *configuration = findChild(document, "configuration");
    if (!configuration)
        return std::nullopt;
    return childElements(configuration->content);
}

} // namespace

std::optional<SyncthingConfig> parseSyncthingConfig(std::string_view xml)
{
    const auto sections = configurationSections(xml);
    if (!sections)
        return std::nullopt;
    SyncthingConfig config;
    if (const XmlElement *gui = findChild(*sections, "gui")) {
        config.guiEnabled =
            goBool(xmlAttribute(gui->attributes, "enabled").value_or("true")).value_or(true);
        config.guiTls =
            goBool(xmlAttribute(gui->attributes, "tls").value_or("false")).value_or(false);
        const auto guiChildren = childElements(gui->content);
        if (const XmlElement *address = findChild(guiChildren, "address"))
            config.guiAddress = xmlText(address->content);
    }
    if (const XmlElement *options = findChild(*sections, "options")) {
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
    const auto sections = configurationSections(xml);
    if (!sections)
        return std::nullopt;
    SyncthingLocalApi api;
    for (const XmlElement &section : *sections) {
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

} // namespace mm::node
