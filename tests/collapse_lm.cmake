# Language-model part of `alab collapse` (src/exp/collapse_lm*.c). The fast
# test is tests/test_collapse_lm.c (registered by the glob; it compares a run
# on 1 and 2 threads, hence PROCESSORS 2); the same binary with "slow" trains
# a small run of real models on 2 threads (about 1-2 minutes on 2 idle cores).
set_tests_properties(test_collapse_lm PROPERTIES PROCESSORS 2)
add_test(NAME test_collapse_lm_slow COMMAND test_collapse_lm slow)
set_tests_properties(test_collapse_lm_slow PROPERTIES
  ENVIRONMENT "ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;ALAB_BIN=$<TARGET_FILE:alab>;ALAB_SRC=${CMAKE_SOURCE_DIR};OMP_NUM_THREADS=2"
  LABELS slow PROCESSORS 2 TIMEOUT 1800)
