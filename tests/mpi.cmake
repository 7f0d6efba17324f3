# Data-parallel training under Open MPI's mpirun (tests/test_mpi.c): up to 3
# ranks on CI's 2 cores, so it runs alone.
set_tests_properties(test_mpi PROPERTIES PROCESSORS 2)
