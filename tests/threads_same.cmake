# tests/test_threads_same.c trains on 1, 2 and 3 threads: PROCESSORS 2 so
# ctest never runs it beside another test.
set_tests_properties(test_threads_same PROPERTIES PROCESSORS 2)
# tests/test_job_threads.c runs alab reversal on 3 threads.
set_tests_properties(test_job_threads PROPERTIES PROCESSORS 2)
