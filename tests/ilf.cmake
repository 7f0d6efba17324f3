# ilf (imitation learning from language feedback) and its sandbox.
# The benchmark helper of bench/bench_sandbox.sh:
add_executable(bench_sandbox ${CMAKE_SOURCE_DIR}/bench/bench_sandbox.c)
target_link_libraries(bench_sandbox PRIVATE alab_lib)
# test_sandbox runs its programs one at a time except run_many's (4 workers,
# mostly waiting on children); the timeout cases have 1 s, the rest 3 s.
set_tests_properties(test_ilf_run PROPERTIES PROCESSORS 2)
# alab ilf eval over HTTP against the fault-injecting endpoint.
set_property(TEST test_code_eval APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
# The loop's claims at the quick scale: minutes of CPU, both cores.
set_tests_properties(test_ilf_loop PROPERTIES LABELS "slow;e2e" PROCESSORS 2)
# alab ilf code through two real alab serve processes: trains its model (350
# steps) and runs the loop five times; about 25 CPU-s in Release, 70 under
# ASan (it passes there too), so labelled e2e.
set_tests_properties(test_ilf_code_ep PROPERTIES LABELS "e2e")
