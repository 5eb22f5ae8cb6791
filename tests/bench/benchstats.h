#pragma once

// Figures the benches print about a series of timings.

#include <QList>

#include <algorithm>
#include <cmath>

namespace mm::bench {

// The nearest-rank percentile (p in 0..1) of values; 0 for none.
inline double percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto i = qsizetype(std::ceil(p * double(values.size()))) - 1;
    return values[std::clamp<qsizetype>(i, 0, values.size() - 1)];
}

} // namespace mm::bench
