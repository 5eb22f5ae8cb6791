mailmesh_add_test(tst_clusterconfig LIBS mailmesh_cluster)
mailmesh_add_test(tst_keywordletters LIBS mailmesh_cluster)
mailmesh_add_test(tst_clusterstate LIBS mailmesh_cluster)
mailmesh_add_test(tst_clusterchanges LIBS mailmesh_cluster)
# Home nodes: rendezvous hashing, overrides, drained nodes, the passwd-file, the failover clock.
mailmesh_add_test(tst_homenodes LIBS mailmesh_cluster)
mailmesh_add_test(tst_clustermonitor KIND integration LIBS mailmesh_cluster mailmesh_sandbox TIMEOUT 900)
target_compile_definitions(tst_clustermonitor PRIVATE MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>")
add_dependencies(tst_clustermonitor mailmesh-agent)
# Waits of several minutes on real daemons: QtTest's 5-minute watchdog must not cut them short.
set_tests_properties(tst_clustermonitor PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=900000)
# The report, Dovecot command lines and mailmeshctl's progress line (its printer is compiled in).
mailmesh_add_test(tst_workflowreport LIBS mailmesh_cluster
                  SOURCES unit/tst_workflowreport.cpp
                          ${PROJECT_SOURCE_DIR}/app/mailmeshctl/workflowprinter.cpp
                          ${PROJECT_SOURCE_DIR}/app/mailmeshctl/workflowprinter.h)
target_include_directories(tst_workflowreport PRIVATE ${PROJECT_SOURCE_DIR}/app/mailmeshctl)
mailmesh_add_test(tst_statuscheck LIBS mailmesh_cluster)
# Issue #25: status --prometheus (the exposition writer, read back by a strict parser of the text
# format), the canary's history and its thresholds in status --check.
mailmesh_add_test(tst_prometheustext LIBS mailmesh_cluster)
# Manual actions quote every value; files on nodes are written through mktemp names.
mailmesh_add_test(tst_preparenodeworkflow LIBS mailmesh_cluster)
# deploy-dovecot's decisions: snippets per Dovecot line, versions, package selection.
mailmesh_add_test(tst_dovecotconfig LIBS mailmesh_cluster)
# deploy-dovecot --packages: Debian version order, recorded apt-cache policy, apt command lines.
mailmesh_add_test(tst_debianpackages LIBS mailmesh_cluster)
mailmesh_add_test(tst_clusteralerts LIBS mailmesh_cluster)
mailmesh_add_test(tst_mailfolderpolicy LIBS mailmesh_cluster)
# prepare's first configuration of a Syncthing that never ran, on what `syncthing generate` writes.
mailmesh_add_test(tst_syncthingfirstconfig LIBS mailmesh_cluster)
# Delivery propagation p50/p95 with Mailmesh's folder options against Syncthing's defaults.
mailmesh_add_test(bench_propagation KIND bench LIBS mailmesh_cluster mailmesh_sandbox TIMEOUT 1800)
set_tests_properties(bench_propagation PROPERTIES RESOURCE_LOCK sandbox)
# The English plural forms, and that every "%n" message in the sources has them.
find_program(MAILMESH_LUPDATE lupdate HINTS /usr/lib/qt6/bin REQUIRED)
mailmesh_add_test(tst_pluralforms LIBS mailmesh_cluster)
target_compile_definitions(tst_pluralforms PRIVATE MAILMESH_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                                   MAILMESH_LUPDATE="${MAILMESH_LUPDATE}")
# Issue #20 through mailmeshctl: a hostile cluster file is refused before any ssh runs, and
# add-node pins the key the node offers (one sandbox node, stock Dovecot).
mailmesh_add_test(tst_ctlsecurity KIND integration TIMEOUT 600 LIBS mailmesh_sandbox)
target_compile_definitions(tst_ctlsecurity PRIVATE
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_ctlsecurity mailmesh-agent mailmeshctl)
