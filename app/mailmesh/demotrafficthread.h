#pragma once

#include "sandbox/demotraffic.h"

#include <QJsonObject>
#include <QThread>

#include <atomic>

namespace mm::app {

// Runs the demo's traffic (sandbox::DemoTraffic, which blocks) on a thread of its own: a round,
// a pause, a count, for as long as it is switched on and not held. Figures and problems come
// back as queued signals.
class DemoTrafficThread : public QThread
{
    Q_OBJECT

public:
    explicit DemoTrafficThread(QJsonObject sandboxDescription, QObject *parent = nullptr);
    ~DemoTrafficThread() override;

    void setSwitchedOn(bool on) { m_switchedOn = on; }
    bool isSwitchedOn() const { return m_switchedOn; }
    // Held: no new round starts (the one under way finishes), e.g. while a migration runs.
    void setHeld(bool held) { m_held = held; }
    bool isHeld() const { return m_held; }
    // True while a round or a count is under way.
    bool isBusy() const { return m_busy; }

Q_SIGNALS:
    void figuresChanged(const mm::sandbox::DemoTraffic::Figures &figures);
    void problem(const QString &message);

protected:
    void run() override;

private:
    QJsonObject m_description;
    std::atomic<bool> m_switchedOn = false;
    std::atomic<bool> m_held = false;
    std::atomic<bool> m_busy = false;
};

} // namespace mm::app
