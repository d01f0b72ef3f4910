# Runs a command and checks its exit status, for the end-to-end tests of the tlschan command:
#   cmake -DEXPECTED_EXIT=N -P expect_exit.cmake -- PROGRAM ARGS...
# It prints the command's stdout and stderr, so that PASS_REGULAR_EXPRESSION can check them, and on
# a wrong status a line that the tests' FAIL_REGULAR_EXPRESSION matches (a PASS_REGULAR_EXPRESSION
# alone would ignore the status).
math(EXPR last "${CMAKE_ARGC} - 1")
set(first -1)
foreach(i RANGE 0 ${last})
  if(CMAKE_ARGV${i} STREQUAL "-P")
    math(EXPR first "${i} + 2")
    break()
  endif()
endforeach()
if(first GREATER -1 AND first LESS_EQUAL last AND CMAKE_ARGV${first} STREQUAL "--")
  math(EXPR first "${first} + 1")  # `--` keeps cmake from reading the program's options
endif()
if(first EQUAL -1 OR first GREATER last)
  message(FATAL_ERROR "usage: cmake -DEXPECTED_EXIT=N -P expect_exit.cmake -- PROGRAM ARGS...")
endif()
set(command)
foreach(i RANGE ${first} ${last})
  list(APPEND command "${CMAKE_ARGV${i}}")
endforeach()
execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT status STREQUAL EXPECTED_EXIT)
  message(FATAL_ERROR "tlschan-cli-test: exit status ${status}, expected ${EXPECTED_EXIT}")
endif()
