# test_train_kill runs `alab train` about 40 times on a tiny model (a second
# or so in all); its thread-count check runs once on every core.
set_tests_properties(test_train_kill PROPERTIES PROCESSORS 2)
