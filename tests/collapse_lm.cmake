# Language-model part of `alab collapse` (src/exp/collapse_lm*.c). The fast
# test is tests/test_collapse_lm.c (registered by the glob); the same binary
# with "slow" trains a small run of real models (a few minutes on 2 cores).
add_test(NAME test_collapse_lm_slow COMMAND test_collapse_lm slow)
set_tests_properties(test_collapse_lm_slow PROPERTIES
  ENVIRONMENT "ALAB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;ALAB_BIN=$<TARGET_FILE:alab>;ALAB_SRC=${CMAKE_SOURCE_DIR};OMP_NUM_THREADS=2"
  LABELS slow TIMEOUT 1800)
