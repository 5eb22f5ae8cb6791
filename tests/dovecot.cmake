# The cur/-only Dovecot (installers/dovecot): the proof on a 3-node cluster and its measurements.
# They run the patched build from a prefix that installers/dovecot/build-prefix.sh makes and
# prints (a cold build takes minutes, so it is cached outside the repository).
# The comparison runs the stock system Dovecot (2.3 on Debian 12).
mailmesh_add_test(tst_dovecotcluster KIND integration TIMEOUT 900
                  LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_dovecotcluster PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_DOVECOT_PREFIX_VARIABLE="MAILMESH_DOVECOT_PREFIX"
                           MAILMESH_COMPARISON_DOVECOT_PREFIX="/usr")
# The same proof on the 2.4 build (build-prefix.sh 2.4). Label slow: CI builds no 2.4 prefix. No
# stock 2.4 on Debian 12: the comparison runs the patched 2.4 with maildir_cur_only off.
mailmesh_add_test(tst_dovecotcluster24 KIND integration LABELS slow TIMEOUT 900
                  SOURCES integration/tst_dovecotcluster.cpp
                  LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_dovecotcluster24 PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT24_PREFIX}"
                           MAILMESH_DOVECOT_PREFIX_VARIABLE="MAILMESH_DOVECOT24_PREFIX"
                           MAILMESH_COMPARISON_DOVECOT_PREFIX="${MAILMESH_DOVECOT24_PREFIX}")

# The cluster workflows end to end through mailmeshctl, on nodes running the patched Dovecot.
mailmesh_add_test(tst_ctlmigration KIND integration TIMEOUT 900 LIBS mailmesh_sandbox)
target_compile_definitions(tst_ctlmigration PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_ctlmigration mailmesh-agent mailmeshctl)
set_tests_properties(tst_ctlmigration PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=900000)
# join, remove-node and a dead node's removal on a live, migrated cluster of four sandbox nodes.
mailmesh_add_test(tst_ctllifecycle KIND integration TIMEOUT 900 LIBS mailmesh_sandbox)
target_compile_definitions(tst_ctllifecycle PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_ctllifecycle mailmesh-agent mailmeshctl)
set_tests_properties(tst_ctllifecycle PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=900000)

foreach(bench bench_uidcollisions bench_dovecotpropagation)
  mailmesh_add_test(${bench} KIND bench TIMEOUT 1800
                    LIBS mailmesh_sandbox Qt6::Network)
  target_include_directories(${bench} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/integration)
  target_compile_definitions(${bench} PRIVATE
                             MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}")
  set_tests_properties(${bench} PROPERTIES RESOURCE_LOCK sandbox)
endforeach()

# Real clusters of 3, 5 and 10 sandbox nodes set up through mailmeshctl: pair and migrate times,
# a delivery until it is on every node, and the dashboard monitor's CPU and RSS (label bench).
mailmesh_add_test(bench_clusterscale KIND bench TIMEOUT 5400 LIBS mailmesh_cluster mailmesh_sandbox)
target_include_directories(bench_clusterscale PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/integration)
target_compile_definitions(bench_clusterscale PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(bench_clusterscale mailmesh-agent mailmeshctl)
set_tests_properties(bench_clusterscale PROPERTIES RESOURCE_LOCK sandbox)

# deploy-dovecot end to end: stock nodes get the patched prefix, a rerun changes nothing, a
# broken template (MAILMESH_DOVECOT_TEMPLATE_DIR) is rolled back, migrate works afterwards.
mailmesh_add_test(tst_ctldeploydovecot KIND integration TIMEOUT 900 LIBS mailmesh_sandbox)
target_compile_definitions(tst_ctldeploydovecot PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_ctldeploydovecot mailmesh-agent mailmeshctl)
set_tests_properties(tst_ctldeploydovecot PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=900000)

# deploy-dovecot --packages end to end: the patched Debian 12 packages (build-debs.sh 12, built
# by the test when missing) installed, held and rolled back on a Debian node in a debootstrap
# chroot with its own sshd. Label slow: minutes with the packages cached, about an hour without.
mailmesh_add_test(tst_ctldeploydovecotpackages KIND slow TIMEOUT 7200 LIBS mailmesh_sandbox Qt6::Network
                  SOURCES integration/tst_ctldeploydovecotpackages.cpp)
target_compile_definitions(tst_ctldeploydovecotpackages PRIVATE
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_ctldeploydovecotpackages mailmesh-agent mailmeshctl)
set_tests_properties(tst_ctldeploydovecotpackages PROPERTIES RESOURCE_LOCK package-chroot
                     ENVIRONMENT QTEST_FUNCTION_TIMEOUT=7200000)

# Every piece of shared mailbox state under concurrent IMAP clients on different nodes: keyword
# races, subscription races, a minute of chaos (only with MAILMESH_CHAOS_SECONDS set, while a
# finding is open), revert (docs/mailbox-state.md). Set up and
# migrated by mailmeshctl on three sandbox nodes with the patched Dovecot.
mailmesh_add_test(tst_mailboxstate KIND integration TIMEOUT 1200 LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_mailboxstate PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_mailboxstate mailmesh-agent mailmeshctl)
set_tests_properties(tst_mailboxstate PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=1200000)
# The replication canary (every pair measured, probes removed, never a mailbox, a message or a
# duplicate, a node without Syncthing times out) and status --prometheus read back by a strict
# parser of the text format (issue #25).
mailmesh_add_test(tst_canary KIND integration TIMEOUT 900 LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_canary PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_canary mailmesh-agent mailmeshctl)
set_tests_properties(tst_canary PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=900000)
# mailmesh-agent watch-changes alone carries changes Syncthing's own watcher misses (it is
# switched off there): deliveries, a folder made again, a flag set on arrival.
mailmesh_add_test(tst_changewatch KIND integration TIMEOUT 900 LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_changewatch PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_changewatch mailmesh-agent mailmeshctl)
set_tests_properties(tst_changewatch PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=900000)
# The same on the 2.4 build (build-prefix.sh 2.4; label slow: CI builds no 2.4 prefix).
mailmesh_add_test(tst_mailboxstate24 KIND integration LABELS slow TIMEOUT 1200
                  SOURCES integration/tst_mailboxstate.cpp LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_mailboxstate24 PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT24_PREFIX}"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_mailboxstate24 mailmesh-agent mailmeshctl)
set_tests_properties(tst_mailboxstate24 PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=1200000)
# Ten minutes of chaos on a cur/-only cluster, and on stock Dovecot (Debian's, /usr) for the
# duplicates it makes.
mailmesh_add_test(tst_mailboxchaos KIND integration LABELS slow TIMEOUT 3600 LIBS mailmesh_sandbox Qt6::Network)
target_compile_definitions(tst_mailboxchaos PRIVATE
                           MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT_PREFIX}"
                           MAILMESH_STOCK_DOVECOT_PREFIX="/usr"
                           MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                           MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
add_dependencies(tst_mailboxchaos mailmesh-agent mailmeshctl)
set_tests_properties(tst_mailboxchaos PROPERTIES ENVIRONMENT QTEST_FUNCTION_TIMEOUT=3600000)

# Every test with a Dovecot prefix compiled in gets the label "dovecot": installers/bootstrap.sh
# runs the other tests while the patched Dovecot is still building, then builds these with the
# prefix and runs them. Deferred, so that the tests of every layer exist by then.
function(mailmesh_label_dovecot_tests)
  get_property(all_tests DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} PROPERTY TESTS)
  foreach(test_name IN LISTS all_tests)
    if(TARGET ${test_name})
      get_target_property(definitions ${test_name} COMPILE_DEFINITIONS)
      if(definitions MATCHES "MAILMESH_DOVECOT_PREFIX=")
        set_property(TEST ${test_name} APPEND PROPERTY LABELS dovecot)
      endif()
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} CALL mailmesh_label_dovecot_tests)

# Home nodes end to end (issue #25): homes show/deploy, IMAP logins through a node that is not
# the user's home, concurrent clients through every node, failover and --return with a node's
# Dovecot stopped, and status --check --auto-failover.
# tst_ctlhomes24: the same on the 2.4 build (label slow, like tst_dovecotcluster24: CI builds no
# 2.4 prefix).
foreach(line "" 24)
  set(test tst_ctlhomes${line})
  if(line STREQUAL "")
    mailmesh_add_test(${test} KIND integration TIMEOUT 600
                      SOURCES integration/tst_ctlhomes.cpp LIBS mailmesh_cluster mailmesh_sandbox)
  else()
    mailmesh_add_test(${test} KIND integration LABELS slow TIMEOUT 600
                      SOURCES integration/tst_ctlhomes.cpp LIBS mailmesh_cluster mailmesh_sandbox)
  endif()
  target_include_directories(${test} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/integration)
  target_compile_definitions(${test} PRIVATE
                             MAILMESH_DOVECOT_PREFIX="${MAILMESH_DOVECOT${line}_PREFIX}"
                             MAILMESH_DOVECOT_PREFIX_VARIABLE="MAILMESH_DOVECOT${line}_PREFIX"
                             MAILMESH_AGENT_BINARY="$<TARGET_FILE:mailmesh-agent>"
                             MAILMESHCTL_BINARY="$<TARGET_FILE:mailmeshctl>")
  add_dependencies(${test} mailmesh-agent mailmeshctl)
endforeach()
