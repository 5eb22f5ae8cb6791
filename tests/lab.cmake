# core/lab: real Debian nodes under systemd-nspawn (root only; 77 = skipped elsewhere).
mailmesh_add_test(tst_lab KIND integration LIBS mailmesh_lab Qt6::Network TIMEOUT 900)
set_tests_properties(tst_lab PROPERTIES SKIP_RETURN_CODE 77)

# The last word on labs: tst_lableftovers is the FIXTURES_CLEANUP of the "lab_nodes" fixture,
# which every lab test requires, so ctest runs it after all of them (also with -R or -L).
mailmesh_add_test(tst_lableftovers KIND integration LIBS mailmesh_lab)
set_tests_properties(tst_lableftovers PROPERTIES FIXTURES_CLEANUP lab_nodes)
set_tests_properties(tst_lab PROPERTIES FIXTURES_REQUIRED lab_nodes)
