#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <utility>

namespace mm::cluster {

// Prometheus's text exposition format (version 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/): one HELP and one TYPE line per
// metric family, then its samples, each family's lines together. Label values and help texts are
// escaped; a family or sample the format would not accept (a bad name, a sample of an undeclared
// family, a second sample with the same labels) is refused and named in errors(), never written.
class PrometheusText
{
public:
    enum class Type
    {
        Gauge,
        Counter
    };
    using Labels = QList<std::pair<QString, QString>>; // written in this order

    // Declares a family; false when the name is not a metric name or is declared already.
    bool family(const QString &name, Type type, const QString &help);
    // One sample of a declared family; false when refused (see errors()).
    bool sample(const QString &name, const Labels &labels, double value);

    // The exposition: families in the order declared, a family without samples left out, the
    // last line ending with a line feed.
    QString text() const;
    const QStringList &errors() const { return m_errors; }

    static bool isMetricName(const QString &name);
    static bool isLabelName(const QString &name);
    static QString escapeLabelValue(const QString &value); // \ " and line feed
    static QString escapeHelp(const QString &help);        // \ and line feed
    // Shortest text that reads back as the same double; NaN, +Inf and -Inf as the format spells them.
    static QString formatValue(double value);

private:
    struct Family
    {
        QString name;
        Type type;
        QString help;
        QStringList keys;  // one per sample: its label text, to refuse a second one
        QStringList lines; // the samples
    };
    Family *find(const QString &name);

    QList<Family> m_families;
    QStringList m_errors;
};

} // namespace mm::cluster
