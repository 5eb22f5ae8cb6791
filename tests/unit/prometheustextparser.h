#pragma once

// A strict reader of Prometheus's text exposition format 0.0.4, written from the spec
// (https://prometheus.io/docs/instrumenting/exposition_formats/, "Text format details") to check
// what `mailmeshctl status --prometheus` prints. Stricter than Prometheus itself where the spec
// says "should": every sample's family has exactly one TYPE, given before its first sample; a
// family's lines are not split by another family's; no series appears twice. Test code only.

#include <QList>
#include <QMap>
#include <QRegularExpression>
#include <QSet>
#include <QString>
#include <QStringList>

#include <cmath>

namespace mm::test {

struct PrometheusSample
{
    QString name;
    QMap<QString, QString> labels; // unescaped values
    double value = 0;
};

struct PrometheusExposition
{
    QMap<QString, QString> types; // family -> counter, gauge, ...
    QMap<QString, QString> helps; // family -> unescaped help
    QList<PrometheusSample> samples;
    QString error; // empty when the whole text was accepted; else "line N: why"

    QList<PrometheusSample> series(const QString &name) const
    {
        QList<PrometheusSample> out;
        for (const PrometheusSample &sample : samples)
            if (sample.name == name)
                out << sample;
        return out;
    }
    // The value of the one sample with exactly these labels; NaN when there is none.
    double value(const QString &name, const QMap<QString, QString> &labels = {}) const
    {
        for (const PrometheusSample &sample : samples)
            if (sample.name == name && sample.labels == labels)
                return sample.value;
        return std::nan("");
    }
};

class PrometheusTextParser
{
public:
    static PrometheusExposition parse(const QString &text)
    {
        PrometheusExposition out;
        if (!text.isEmpty() && !text.endsWith(u'\n')) {
            out.error = QStringLiteral("the last line does not end with a line feed");
            return out;
        }
        QString currentFamily;
        QSet<QString> closedFamilies;
        QSet<QString> seriesSeen;
        const QStringList lines = text.split(u'\n');
        for (int i = 0; i < lines.size(); ++i) {
            const QString line = lines[i];
            const auto failAt = [&](const QString &why) {
                out.error = QStringLiteral("line %1: %2: %3").arg(i + 1).arg(why, line);
                return out;
            };
            if (line.trimmed().isEmpty())
                continue;
            QString family;
            if (line.startsWith(u'#')) {
                const QStringList tokens = line.mid(1).trimmed().split(u' ', Qt::SkipEmptyParts);
                if (tokens.isEmpty() || (tokens[0] != QLatin1String("HELP") && tokens[0] != QLatin1String("TYPE")))
                    continue; // a plain comment
                if (tokens.size() < 2 || !isMetricName(tokens[1]))
                    return failAt(QStringLiteral("HELP or TYPE without a metric name"));
                family = tokens[1];
                if (tokens[0] == QLatin1String("TYPE")) {
                    static const QStringList kTypes{QStringLiteral("counter"), QStringLiteral("gauge"),
                                                    QStringLiteral("histogram"), QStringLiteral("summary"),
                                                    QStringLiteral("untyped")};
                    if (tokens.size() != 3 || !kTypes.contains(tokens[2]))
                        return failAt(QStringLiteral("TYPE needs a name and one of the five types"));
                    if (out.types.contains(family))
                        return failAt(QStringLiteral("a second TYPE line for the family"));
                    if (familyHasSamples(out, family))
                        return failAt(QStringLiteral("TYPE after the family's first sample"));
                    out.types.insert(family, tokens[2]);
                } else {
                    if (out.helps.contains(family))
                        return failAt(QStringLiteral("a second HELP line for the family"));
                    const qsizetype start = line.indexOf(family) + family.size();
                    QString help;
                    if (!unescape(line.mid(start).trimmed(), false, help))
                        return failAt(QStringLiteral("a bad escape in HELP"));
                    out.helps.insert(family, help);
                }
            } else {
                PrometheusSample sample;
                QString why;
                if (!parseSample(line, sample, why))
                    return failAt(why);
                family = sample.name;
                if (!out.types.contains(family))
                    return failAt(QStringLiteral("a sample before (or without) its family's TYPE"));
                QStringList key{sample.name};
                for (auto it = sample.labels.cbegin(); it != sample.labels.cend(); ++it)
                    key << it.key() + u'=' + it.value();
                if (seriesSeen.contains(key.join(u'\x1f')))
                    return failAt(QStringLiteral("the same series twice"));
                seriesSeen.insert(key.join(u'\x1f'));
                out.samples << sample;
            }
            if (family != currentFamily) {
                if (closedFamilies.contains(family))
                    return failAt(QStringLiteral("the family's lines are not together"));
                if (!currentFamily.isEmpty())
                    closedFamilies.insert(currentFamily);
                currentFamily = family;
            }
        }
        return out;
    }

    static bool isMetricName(const QString &name)
    {
        static const QRegularExpression pattern(QRegularExpression::anchoredPattern(QStringLiteral("[a-zA-Z_:][a-zA-Z0-9_:]*")));
        return pattern.match(name).hasMatch();
    }

private:
    static bool familyHasSamples(const PrometheusExposition &out, const QString &family)
    {
        for (const PrometheusSample &sample : out.samples)
            if (sample.name == family)
                return true;
        return false;
    }

    // Label values know \\, \" and \n; HELP texts \\ and \n. Anything else after a backslash is
    // refused, as is a raw line feed.
    static bool unescape(const QString &text, bool quotes, QString &out)
    {
        out.clear();
        for (qsizetype i = 0; i < text.size(); ++i) {
            if (text[i] != u'\\') {
                out += text[i];
                continue;
            }
            if (++i >= text.size())
                return false;
            if (text[i] == u'\\')
                out += u'\\';
            else if (text[i] == u'n')
                out += u'\n';
            else if (quotes && text[i] == u'"')
                out += u'"';
            else
                return false;
        }
        return true;
    }

    static bool parseValue(const QString &text, double &value)
    {
        if (text == QLatin1String("NaN")) {
            value = std::nan("");
            return true;
        }
        if (text == QLatin1String("+Inf") || text == QLatin1String("-Inf")) {
            value = text.startsWith(u'+') ? INFINITY : -INFINITY;
            return true;
        }
        static const QRegularExpression number(
            QRegularExpression::anchoredPattern(QStringLiteral("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")));
        if (!number.match(text).hasMatch())
            return false;
        bool ok = false;
        value = text.toDouble(&ok);
        return ok;
    }

    static bool parseSample(const QString &line, PrometheusSample &sample, QString &why)
    {
        static const QRegularExpression name(QStringLiteral("^[a-zA-Z_:][a-zA-Z0-9_:]*"));
        const QRegularExpressionMatch nameMatch = name.match(line);
        if (!nameMatch.hasMatch()) {
            why = QStringLiteral("no metric name");
            return false;
        }
        sample.name = nameMatch.captured();
        qsizetype pos = sample.name.size();
        if (pos < line.size() && line[pos] == u'{') {
            ++pos;
            static const QRegularExpression labelName(QStringLiteral("[a-zA-Z_][a-zA-Z0-9_]*"));
            while (pos < line.size() && line[pos] != u'}') {
                const QRegularExpressionMatch label =
                    labelName.match(line, pos, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption);
                if (!label.hasMatch() || pos + label.capturedLength() + 1 >= line.size()
                    || line.mid(pos + label.capturedLength(), 2) != QLatin1String("=\"")) {
                    why = QStringLiteral("a bad label");
                    return false;
                }
                pos += label.capturedLength() + 2;
                qsizetype end = pos;
                while (end < line.size() && line[end] != u'"')
                    end += line[end] == u'\\' ? 2 : 1;
                if (end >= line.size()) {
                    why = QStringLiteral("an unterminated label value");
                    return false;
                }
                QString value;
                if (!unescape(line.mid(pos, end - pos), true, value)) {
                    why = QStringLiteral("a bad escape in a label value");
                    return false;
                }
                if (sample.labels.contains(label.captured())) {
                    why = QStringLiteral("a label given twice");
                    return false;
                }
                sample.labels.insert(label.captured(), value);
                pos = end + 1;
                if (pos < line.size() && line[pos] == u',')
                    ++pos;
            }
            if (pos >= line.size()) {
                why = QStringLiteral("labels without a closing brace");
                return false;
            }
            ++pos;
        }
        const QStringList rest = line.mid(pos).split(u' ', Qt::SkipEmptyParts);
        if (rest.isEmpty() || rest.size() > 2 || !line.mid(pos).startsWith(u' ')) {
            why = QStringLiteral("not 'name{labels} value [timestamp]'");
            return false;
        }
        if (!parseValue(rest[0], sample.value)) {
            why = QStringLiteral("not a float value");
            return false;
        }
        static const QRegularExpression timestamp(QRegularExpression::anchoredPattern(QStringLiteral("-?\\d+")));
        if (rest.size() == 2 && !timestamp.match(rest[1]).hasMatch()) {
            why = QStringLiteral("not an integer timestamp");
            return false;
        }
        return true;
    }
};

} // namespace mm::test
