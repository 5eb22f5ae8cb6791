#include "cluster/monitor/prometheustext.h"

#include <QRegularExpression>

#include <charconv>
#include <cmath>

namespace mm::cluster {

bool PrometheusText::isMetricName(const QString &name)
{
    static const QRegularExpression pattern(QRegularExpression::anchoredPattern(QStringLiteral("[a-zA-Z_:][a-zA-Z0-9_:]*")));
    return pattern.match(name).hasMatch();
}

bool PrometheusText::isLabelName(const QString &name)
{
    // Names starting with __ are reserved for Prometheus's own use.
    static const QRegularExpression pattern(QRegularExpression::anchoredPattern(QStringLiteral("[a-zA-Z_][a-zA-Z0-9_]*")));
    return pattern.match(name).hasMatch() && !name.startsWith(QLatin1String("__"));
}

QString PrometheusText::escapeLabelValue(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (const QChar c : value) {
        if (c == u'\\')
            out += QLatin1String("\\\\");
        else if (c == u'"')
            out += QLatin1String("\\\"");
        else if (c == u'\n')
            out += QLatin1String("\\n");
        else
            out += c;
    }
    return out;
}

QString PrometheusText::escapeHelp(const QString &help)
{
    QString out;
    out.reserve(help.size());
    for (const QChar c : help) {
        if (c == u'\\')
            out += QLatin1String("\\\\");
        else if (c == u'\n')
            out += QLatin1String("\\n");
        else
            out += c;
    }
    return out;
}

QString PrometheusText::formatValue(double value)
{
    if (std::isnan(value))
        return QStringLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("+Inf") : QStringLiteral("-Inf");
    char buffer[64];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (error != std::errc())
        return QString::number(value, 'g', 17);
    return QString::fromLatin1(buffer, end - buffer);
}

PrometheusText::Family *PrometheusText::find(const QString &name)
{
    for (Family &family : m_families)
        if (family.name == name)
            return &family;
    return nullptr;
}

bool PrometheusText::family(const QString &name, Type type, const QString &help)
{
    if (!isMetricName(name)) {
        m_errors << QStringLiteral("not a metric name: %1").arg(name);
        return false;
    }
    if (find(name)) {
        m_errors << QStringLiteral("family declared twice: %1").arg(name);
        return false;
    }
    m_families << Family{name, type, help, {}, {}};
    return true;
}

bool PrometheusText::sample(const QString &name, const Labels &labels, double value)
{
    Family *family = find(name);
    if (!family) {
        m_errors << QStringLiteral("sample of an undeclared family: %1").arg(name);
        return false;
    }
    QStringList parts;
    QStringList seen;
    for (const auto &[label, labelValue] : labels) {
        if (!isLabelName(label) || seen.contains(label)) {
            m_errors << QStringLiteral("%1: bad or repeated label name: %2").arg(name, label);
            return false;
        }
        seen << label;
        parts << QStringLiteral("%1=\"%2\"").arg(label, escapeLabelValue(labelValue));
    }
    // The same labels in another order are the same series.
    QStringList sorted = parts;
    sorted.sort();
    const QString key = sorted.join(u',');
    if (family->keys.contains(key)) {
        m_errors << QStringLiteral("%1: a second sample with the labels {%2}").arg(name, key);
        return false;
    }
    family->keys << key;
    family->lines << name + (parts.isEmpty() ? QString() : u'{' + parts.join(u',') + u'}') + u' ' + formatValue(value);
    return true;
}

QString PrometheusText::text() const
{
    QString out;
    for (const Family &family : m_families) {
        if (family.lines.isEmpty())
            continue;
        out += QStringLiteral("# HELP %1 %2\n").arg(family.name, escapeHelp(family.help));
        out += QStringLiteral("# TYPE %1 %2\n").arg(family.name, family.type == Type::Counter ? QStringLiteral("counter")
                                                                                            : QStringLiteral("gauge"));
        for (const QString &line : family.lines)
            out += line + u'\n';
    }
    return out;
}

} // namespace mm::cluster
