# Runs one libFuzzer target briefly over its seed corpus: -DBINARY -DCORPUS -DWORK -DSECONDS.
# New inputs go to WORK/corpus (never into the repository's seed corpus), crash reproducers to
# WORK/; a crash, a leak or a sanitizer report fails the test.
if(NOT EXISTS ${BINARY})
  message(FATAL_ERROR "${BINARY} does not exist (the fuzz_build test builds it)")
endif()
file(MAKE_DIRECTORY ${WORK}/corpus)
execute_process(COMMAND ${BINARY} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
                        -print_final_stats=1 -artifact_prefix=${WORK}/ ${WORK}/corpus ${CORPUS}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BINARY} failed (exit ${rc}); reproducers are in ${WORK}/")
endif()
