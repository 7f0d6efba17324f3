# Data-parallel training under Open MPI's mpirun (tests/test_mpi.c): up to 3
# ranks on CI's 2 cores, so it runs alone.
set_tests_properties(test_mpi PROPERTIES PROCESSORS 2)
# bench/bench_dist_sum.c: the gradient sum alone, for the step-time model (bench/README.md).
add_executable(bench_dist_sum EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/bench/bench_dist_sum.c)
target_include_directories(bench_dist_sum PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(bench_dist_sum PRIVATE alab_lib)
# Sweeps across ranks under mpirun (tests/test_mpi_sweep.c): six experiments' CLIs end to end, each three
# times (about 70 CPU-s in Release), up to 3 ranks, so it runs alone; end to end, so Release only.
set_tests_properties(test_mpi_sweep PROPERTIES PROCESSORS 2 LABELS "slow;e2e")
# The sweeps of oocr, rl, cpm and ilf (tests/test_mpi_sweep_more.c): each three times, up to 3 ranks, end to end.
set_tests_properties(test_mpi_sweep_more PROPERTIES PROCESSORS 2 LABELS "slow;e2e")
# --overlap-reduce against the blocking sum (tests/test_mpi_overlap.c): up to 3 ranks on 2 cores, so it runs alone.
set_tests_properties(test_mpi_overlap PROPERTIES PROCESSORS 2)
# A failure on one rank only, before any agreement (tests/test_mpi_setup_fail.c): 2 ranks, so it runs alone.
set_tests_properties(test_mpi_setup_fail PROPERTIES PROCESSORS 2)
