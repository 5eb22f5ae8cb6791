# Fails unless BINARY is a statically linked ELF executable (as `file` reports it).
execute_process(COMMAND file -L ${BINARY} OUTPUT_VARIABLE description RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "file failed on ${BINARY}")
endif()
if(NOT description MATCHES "statically linked" AND NOT description MATCHES "static-pie linked")
  message(FATAL_ERROR "not static: ${description}")
endif()
message(STATUS "${description}")
