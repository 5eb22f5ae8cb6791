<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>ClusterChanges</name>
    <message numerus="yes">
        <source>%n duplicate group(s) found; `mailmesh-agent dupes ROOT` on a node lists them with their keepers</source>
        <translation>
            <numerusform>%n duplicate group found; `mailmesh-agent dupes ROOT` on a node lists it with its keeper</numerusform>
            <numerusform>%n duplicate groups found; `mailmesh-agent dupes ROOT` on a node lists them with their keepers</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n UID conflict(s): the same UID names different messages on two nodes</source>
        <translation>
            <numerusform>%n UID conflict: the same UID names different messages on two nodes</numerusform>
            <numerusform>%n UID conflicts: the same UID names different messages on two nodes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n keyword clash(es): one keyword letter means different keywords on two nodes</source>
        <translation>
            <numerusform>%n keyword clash: one keyword letter means different keywords on two nodes</numerusform>
            <numerusform>%n keyword clashes: one keyword letter means different keywords on two nodes</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n folder</numerusform>
            <numerusform>%n folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n Maildir(s)</source>
        <translation>
            <numerusform>%n Maildir</numerusform>
            <numerusform>%n Maildirs</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n message(s)</source>
        <translation>
            <numerusform>%n message</numerusform>
            <numerusform>%n messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n duplicate group(s) in the cluster now</source>
        <translation>
            <numerusform>%n duplicate group in the cluster now</numerusform>
            <numerusform>%n duplicate groups in the cluster now</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n UID conflict(s)</source>
        <translation>
            <numerusform>%n UID conflict</numerusform>
            <numerusform>%n UID conflicts</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n keyword clash(es)</source>
        <translation>
            <numerusform>%n keyword clash</numerusform>
            <numerusform>%n keyword clashes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s)</source>
        <translation>
            <numerusform>%n item</numerusform>
            <numerusform>%n items</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::app::DemoDovecot</name>
    <message numerus="yes">
        <source>Building the cur/-only Dovecot once, cached for the next demo (about 20 minutes on two cores; %n minute(s) so far)</source>
        <translation>
            <numerusform>Building the cur/-only Dovecot once, cached for the next demo (about 20 minutes on two cores; %n minute so far)</numerusform>
            <numerusform>Building the cur/-only Dovecot once, cached for the next demo (about 20 minutes on two cores; %n minutes so far)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::app::DemoTrafficBar</name>
    <message numerus="yes">
        <source>%n new message(s)</source>
        <translation>
            <numerusform>%n new message</numerusform>
            <numerusform>%n new messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n duplicate(s)</source>
        <translation>
            <numerusform>%n duplicate</numerusform>
            <numerusform>%n duplicates</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::ClusterWorkflow</name>
    <message numerus="yes">
        <source>%n node(s) reachable, agent running</source>
        <translation>
            <numerusform>%n node reachable, agent running</numerusform>
            <numerusform>%n nodes reachable, agent running</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n node(s) reachable</source>
        <translation>
            <numerusform>%n node reachable</numerusform>
            <numerusform>%n nodes reachable</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::PairWorkflow</name>
    <message numerus="yes">
        <source>%n node(s) to pair</source>
        <translation>
            <numerusform>%n node to pair</numerusform>
            <numerusform>%n nodes to pair</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::DeployDovecotWorkflow</name>
    <message numerus="yes">
        <source>%n node(s) reachable, agent running</source>
        <translation>
            <numerusform>%n node reachable, agent running</numerusform>
            <numerusform>%n nodes reachable, agent running</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n message(s)</source>
        <translation>
            <numerusform>%n message</numerusform>
            <numerusform>%n messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::DuplicatesWorkflow</name>
    <message numerus="yes">
        <source>%n group(s) across the cluster</source>
        <translation>
            <numerusform>%n group across the cluster</numerusform>
            <numerusform>%n groups across the cluster</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n group(s) to settle</source>
        <translation>
            <numerusform>%n group to settle</numerusform>
            <numerusform>%n groups to settle</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n folder</numerusform>
            <numerusform>%n folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n missing message(s)</source>
        <translation>
            <numerusform>%n missing message</numerusform>
            <numerusform>%n missing messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n flag disagreement(s)</source>
        <translation>
            <numerusform>%n flag disagreement</numerusform>
            <numerusform>%n flag disagreements</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n keyword clash(es)</source>
        <translation>
            <numerusform>%n keyword clash</numerusform>
            <numerusform>%n keyword clashes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n UID conflict(s)</source>
        <translation>
            <numerusform>%n UID conflict</numerusform>
            <numerusform>%n UID conflicts</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n group(s) settled on %1%2</source>
        <translation>
            <numerusform>%n group settled on %1%2</numerusform>
            <numerusform>%n groups settled on %1%2</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::JoinNodeWorkflow</name>
    <message numerus="yes">
        <source>%1 joins %n other node(s)</source>
        <translation>
            <numerusform>%1 joins %n other node</numerusform>
            <numerusform>%1 joins %n other nodes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n Maildir folder(s)</source>
        <translation>
            <numerusform>%n Maildir folder</numerusform>
            <numerusform>%n Maildir folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n message(s)</source>
        <translation>
            <numerusform>%n message</numerusform>
            <numerusform>%n messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s) not cur/-only after the copy: %1</source>
        <translation>
            <numerusform>%n folder not cur/-only after the copy: %1</numerusform>
            <numerusform>%n folders not cur/-only after the copy: %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::MigrationWorkflow</name>
    <message numerus="yes">
        <source>keyword tables settled in %n folder(s)</source>
        <translation>
            <numerusform>keyword tables settled in %n folder</numerusform>
            <numerusform>keyword tables settled in %n folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n message name(s) changed</source>
        <translation>
            <numerusform>, %n message name changed</numerusform>
            <numerusform>, %n message names changed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n keyword table(s) or subscription file(s) written on each node</source>
        <translation>
            <numerusform>%n keyword table or subscription file written on each node</numerusform>
            <numerusform>%n keyword tables or subscription files written on each node</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln folder(s)</source>
        <translation>
            <numerusform>%Ln folder</numerusform>
            <numerusform>%Ln folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln message(s)</source>
        <translation>
            <numerusform>%Ln message</numerusform>
            <numerusform>%Ln messages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n problem(s)</source>
        <translation>
            <numerusform>%n problem</numerusform>
            <numerusform>%n problems</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n folder</numerusform>
            <numerusform>%n folders</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::QuarantineWorkflow</name>
    <message numerus="yes">
        <source>%n entr(ies) across the cluster</source>
        <translation>
            <numerusform>%n entry across the cluster</numerusform>
            <numerusform>%n entries across the cluster</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n file</numerusform>
            <numerusform>%n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n entr(ies) %1</source>
        <translation>
            <numerusform>%n entry %1</numerusform>
            <numerusform>%n entries %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::cluster::RemoveNodeWorkflow</name>
    <message numerus="yes">
        <source>%1 leaves; %n node(s) stay</source>
        <translation>
            <numerusform>%1 leaves; %n node stay</numerusform>
            <numerusform>%1 leaves; %n nodes stay</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::ClusterMapWidget</name>
    <message numerus="yes">
        <source>; p95 %1 over %n run(s) in the last hour</source>
        <translation>
            <numerusform>; p95 %1 over %n run in the last hour</numerusform>
            <numerusform>; p95 %1 over %n runs in the last hour</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln item(s) behind</source>
        <translation>
            <numerusform>%Ln item behind</numerusform>
            <numerusform>%Ln items behind</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 · %Ln item(s)</source>
        <translation>
            <numerusform>%1 · %Ln item</numerusform>
            <numerusform>%1 · %Ln items</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::DuplicatesDialog</name>
    <message numerus="yes">
        <source>%n copies</source>
        <translation>
            <numerusform>%n copy</numerusform>
            <numerusform>%n copies</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n duplicate group(s).</source>
        <translation>
            <numerusform>%n duplicate group.</numerusform>
            <numerusform>%n duplicate groups.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n group(s) are settled on %1 and Syncthing carries the result to the other nodes. The copies that go are kept in %1&apos;s quarantine and can be restored.</source>
        <translation>
            <numerusform>%n group is settled on %1 and Syncthing carries the result to the other nodes. The copies that go are kept in %1&apos;s quarantine and can be restored.</numerusform>
            <numerusform>%n groups are settled on %1 and Syncthing carries the result to the other nodes. The copies that go are kept in %1&apos;s quarantine and can be restored.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Every quarantine entry older than %n day(s) is deleted for good on every node. This is the only thing Mailmesh ever deletes.</source>
        <translation>
            <numerusform>Every quarantine entry older than %n day is deleted for good on every node. This is the only thing Mailmesh ever deletes.</numerusform>
            <numerusform>Every quarantine entry older than %n days is deleted for good on every node. This is the only thing Mailmesh ever deletes.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::MainWindow</name>
    <message numerus="yes">
        <source>%1: %2 (and %n more)</source>
        <translation>
            <numerusform>%1: %2 (and %n more)</numerusform>
            <numerusform>%1: %2 (and %n more)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::MigrationDialog</name>
    <message numerus="yes">
        <source>Every Maildir on the %n node(s) becomes cur/-only: &lt;tt&gt;new&lt;/tt&gt; turns into a link to &lt;tt&gt;cur&lt;/tt&gt;, so no node ever moves a message behind the others&apos; backs. While it runs, replication is paused and each node&apos;s hold commands keep delivery and IMAP out; then Dovecot&apos;s cur/-only setting is switched on, every node is checked to hold the same mail, and everything resumes. Nothing is deleted, and every change is journaled.</source>
        <translation>
            <numerusform>Every Maildir on the %n node becomes cur/-only: &lt;tt&gt;new&lt;/tt&gt; turns into a link to &lt;tt&gt;cur&lt;/tt&gt;, so no node ever moves a message behind the others&apos; backs. While it runs, replication is paused and each node&apos;s hold commands keep delivery and IMAP out; then Dovecot&apos;s cur/-only setting is switched on, every node is checked to hold the same mail, and everything resumes. Nothing is deleted, and every change is journaled.</numerusform>
            <numerusform>Every Maildir on the %n nodes becomes cur/-only: &lt;tt&gt;new&lt;/tt&gt; turns into a link to &lt;tt&gt;cur&lt;/tt&gt;, so no node ever moves a message behind the others&apos; backs. While it runs, replication is paused and each node&apos;s hold commands keep delivery and IMAP out; then Dovecot&apos;s cur/-only setting is switched on, every node is checked to hold the same mail, and everything resumes. Nothing is deleted, and every change is journaled.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>&amp;Migrate %n Node(s)</source>
        <translation>
            <numerusform>&amp;Migrate %n Node</numerusform>
            <numerusform>&amp;Migrate %n Nodes</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::MigrationPage</name>
    <message numerus="yes">
        <source>%n problem(s), left untouched: %1</source>
        <translation>
            <numerusform>%n problem, left untouched: %1</numerusform>
            <numerusform>%n problems, left untouched: %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln folder(s)</source>
        <translation>
            <numerusform>%Ln folder</numerusform>
            <numerusform>%Ln folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln message(s)</source>
        <translation>
            <numerusform>%Ln message</numerusform>
            <numerusform>%Ln messages</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::MigrationPlanModel</name>
    <message numerus="yes">
        <source>%n problem(s)</source>
        <translation>
            <numerusform>%n problem</numerusform>
            <numerusform>%n problems</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::NodesPage</name>
    <message numerus="yes">
        <source>%n node(s) need corrections.</source>
        <translation>
            <numerusform>%n node needs corrections.</numerusform>
            <numerusform>%n nodes need corrections.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n nodes, ready to connect.</source>
        <translation>
            <numerusform>%n node, ready to connect.</numerusform>
            <numerusform>%n nodes, ready to connect.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::ProbePage</name>
    <message numerus="yes">
        <source>%n folder(s) are not complete Maildirs (cur/, new/ or tmp/ missing); they will be skipped.</source>
        <translation>
            <numerusform>%n folder is not complete Maildirs (cur/, new/ or tmp/ missing); they will be skipped.</numerusform>
            <numerusform>%n folders are not complete Maildirs (cur/, new/ or tmp/ missing); they will be skipped.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n entry(ies) under the mail root could not be read (on the node: mailmesh-agent scan %1 lists them).</source>
        <translation>
            <numerusform>%n entry under the mail root could not be read (on the node: mailmesh-agent scan %1 lists them).</numerusform>
            <numerusform>%n entries under the mail root could not be read (on the node: mailmesh-agent scan %1 lists them).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>mm::ui::SummaryPage</name>
    <message numerus="yes">
        <source>%n node(s), host keys pinned:</source>
        <translation>
            <numerusform>%n node, host keys pinned:</numerusform>
            <numerusform>%n nodes, host keys pinned:</numerusform>
        </translation>
    </message>
</context>
</TS>
