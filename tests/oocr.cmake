# alab oocr: the HTTP evaluation runs against tests/fault_server.c.
set_property(TEST test_oocr_eval APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
# The end-to-end run pretrains one size (2x64) and finetunes it at two
# augmentation levels and two seeds: 2 threads, 64 s of CPU (234 s at load 13).
set_tests_properties(test_oocr_run PROPERTIES LABELS "slow;e2e" PROCESSORS 2)
