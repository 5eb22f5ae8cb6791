# core/maildir part 1: names, scan, convert, revert, journal, quarantine.
mailmesh_add_test(tst_maildirname LIBS mailmesh_maildir)
mailmesh_add_test(tst_scan LIBS mailmesh_maildir)
mailmesh_add_test(tst_convert LIBS mailmesh_maildir)
# Issue #20: nothing read back from a journal is trusted; the state dir is private; journals are
# durable (checked with strace on the real agent) and finished runs are archived.
mailmesh_add_test(tst_quarantine LIBS mailmesh_maildir)
mailmesh_add_test(tst_statedir LIBS mailmesh_maildir)
# Issue #25: the replication canary's probes on a node, and the walkers never counting them.
mailmesh_add_test(tst_canarydir LIBS mailmesh_maildir)
mailmesh_add_test(tst_journal LIBS mailmesh_maildir TIMEOUT 600)
add_dependencies(tst_journal mailmesh-agent)
mailmesh_add_test(tst_convertcrash KIND integration LIBS mailmesh_maildir TIMEOUT 900)
add_dependencies(tst_convertcrash mailmesh-agent) # runs the real agent as a child process
mailmesh_add_test(bench_convert KIND bench LIBS mailmesh_maildir TIMEOUT 3600)
mailmesh_add_test(bench_scan KIND bench LIBS mailmesh_maildir TIMEOUT 3600)
# What durable journals (fdatasync, directory fsync) cost convert, dedupe and restore.
mailmesh_add_test(bench_durability KIND bench LIBS mailmesh_maildir TIMEOUT 3600)
add_dependencies(bench_scan mailmesh-agent)
# Long by design: QtTest's watchdog (300 s per test function) must not cut them short.
set_tests_properties(tst_convertcrash bench_convert bench_scan bench_durability PROPERTIES
                     ENVIRONMENT QTEST_FUNCTION_TIMEOUT=3600000)

# core/maildir part 2: uidlist, keywords, headers, duplicates, manifests.
mailmesh_add_test(tst_uidlist LIBS mailmesh_maildir)
mailmesh_add_test(tst_keywords LIBS mailmesh_maildir)
mailmesh_add_test(tst_keywordsettle LIBS mailmesh_maildir)
mailmesh_add_test(tst_sharedstate LIBS mailmesh_maildir)
mailmesh_add_test(tst_messageheaders LIBS mailmesh_maildir)
mailmesh_add_test(tst_dupes LIBS mailmesh_maildir)
mailmesh_add_test(tst_inventory LIBS mailmesh_maildir)
mailmesh_add_test(tst_manifest LIBS mailmesh_maildir)
mailmesh_add_test(tst_dedupecrash LIBS mailmesh_maildir TIMEOUT 600)
mailmesh_add_test(bench_dupes KIND bench TIMEOUT 3600)
mailmesh_add_test(bench_manifest KIND bench TIMEOUT 3600)
add_dependencies(bench_dupes mailmesh-agent)
add_dependencies(bench_manifest mailmesh-agent)
add_dependencies(tst_manifest mailmesh-agent)
# Issue #24: the monitor's CPU on a node, full scan + dupes against the incremental inventory.
mailmesh_add_test(bench_monitorcost KIND bench TIMEOUT 3600)
add_dependencies(bench_monitorcost mailmesh-agent)
