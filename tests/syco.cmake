# alab sycophancy: the scripted assistants of tests/syco_persona.c answer
# through fault_server --persona; the mechanism's test runs 2 threads and a
# smaller run under the sanitizers.
target_sources(fault_server PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/syco_persona.c)
set_property(TEST test_syco_eval APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
set_property(TEST test_syco_mech APPEND PROPERTY ENVIRONMENT "ALAB_SANITIZE=${ALAB_SANITIZE}")
set_tests_properties(test_syco_mech PROPERTIES PROCESSORS 2)
set_property(TEST test_syco_rl APPEND PROPERTY ENVIRONMENT "ALAB_SANITIZE=${ALAB_SANITIZE}")
set_tests_properties(test_syco_rl PROPERTIES LABELS "slow;e2e" PROCESSORS 2)
