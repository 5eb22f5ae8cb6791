foreach(model nodesmodel mailboxesmodel syncmatrixmodel eventlogmodel synchistory linkstate mimeheader)
  mailmesh_add_test(tst_${model} LIBS mailmesh_ui)
  set_tests_properties(tst_${model} PROPERTIES ENVIRONMENT QT_QPA_PLATFORM=offscreen)
endforeach()
# Both save screenshots into <build>/screenshots for a human to look at.
mailmesh_add_test(tst_mainwindow KIND gui LIBS mailmesh_ui)
# The cluster map and the lag charts after an hour of a five-node cluster in trouble.
mailmesh_add_test(tst_clusterview KIND gui LIBS mailmesh_ui)
# With MAILMESH_DOVECOT_PREFIX the demo runs the cur/-only build and the test migrates it with
# mailmeshctl; empty, the demo runs the stock Dovecot and those parts skip.
mailmesh_add_test(tst_demo KIND gui LIBS mailmesh_demo mailmesh_ui TIMEOUT 1500)
target_compile_definitions(tst_demo PRIVATE MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
set_tests_properties(tst_demo PROPERTIES ENVIRONMENT
                     "QT_QPA_PLATFORM=offscreen;QTEST_FUNCTION_TIMEOUT=900000;MAILMESH_AGENT=$<TARGET_FILE:mailmesh-agent>;MAILMESH_DOVECOT_PREFIX=${MAILMESH_DOVECOT_PREFIX}")
add_dependencies(tst_demo mailmesh-agent mailmeshctl)
# One snapshot of 10 nodes x 10,000 folders: the app's CPU time to take it in and show it.
mailmesh_add_test(bench_snapshotscale KIND bench LIBS mailmesh_ui mailmesh_maildir TIMEOUT 600)
# The GUI thread's longest stall while following a busy sandbox cluster (label bench).
mailmesh_add_test(bench_guistall KIND bench LIBS mailmesh_demo mailmesh_ui TIMEOUT 600)
set_tests_properties(bench_guistall PROPERTIES RESOURCE_LOCK sandbox
                     ENVIRONMENT "MAILMESH_AGENT=$<TARGET_FILE:mailmesh-agent>")
add_dependencies(bench_guistall mailmesh-agent)
# The one-click migration dialog against a sandbox cluster with the patched Dovecot.
mailmesh_add_test(tst_migrationdialog KIND gui LIBS mailmesh_ui mailmesh_sandbox TIMEOUT 900)
target_compile_definitions(tst_migrationdialog PRIVATE
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}")
add_dependencies(tst_migrationdialog mailmesh-agent)
set_tests_properties(tst_migrationdialog PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QTEST_FUNCTION_TIMEOUT=900000")
# Re-keying a reinstalled node from the dashboard, against one sandbox node.
mailmesh_add_test(tst_rekeydialog KIND gui LIBS mailmesh_ui mailmesh_sandbox TIMEOUT 300)
set_tests_properties(tst_rekeydialog PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen")
# The read-only Home Nodes dialog on three sandbox nodes (stock Dovecot): homes show, a drained
# node and an override; saves homes-dialog.png.
mailmesh_add_test(tst_homesdialog KIND gui LIBS mailmesh_ui mailmesh_sandbox TIMEOUT 300)
set_tests_properties(tst_homesdialog PROPERTIES ENVIRONMENT
                     "QT_QPA_PLATFORM=offscreen;MAILMESH_AGENT=$<TARGET_FILE:mailmesh-agent>")
add_dependencies(tst_homesdialog mailmesh-agent)
# The duplicates view against a paired sandbox cluster: find, preview, resolve, restore.
mailmesh_add_test(tst_duplicatesdialog KIND gui LIBS mailmesh_ui mailmesh_sandbox TIMEOUT 900)
target_compile_definitions(tst_duplicatesdialog PRIVATE MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>")
add_dependencies(tst_duplicatesdialog mailmesh-agent)
set_tests_properties(tst_duplicatesdialog PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QTEST_FUNCTION_TIMEOUT=900000")
# The setup wizard end to end on three sandbox nodes running the patched Dovecot; screenshots of
# every page into <build>/screenshots. Skips without MAILMESH_DOVECOT_PREFIX.
mailmesh_add_test(tst_setupwizard KIND gui LIBS mailmesh_ui mailmesh_sandbox TIMEOUT 900)
target_compile_definitions(tst_setupwizard PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>")
add_dependencies(tst_setupwizard mailmesh-agent)
set_tests_properties(tst_setupwizard PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QTEST_FUNCTION_TIMEOUT=900000")
