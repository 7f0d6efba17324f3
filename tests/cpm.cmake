# Compositional preference models: the feature extraction test runs against
# the scripted endpoint (tests/fault_server.c, built by provider.cmake).
set_property(TEST test_cpm_features APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
set_property(TEST test_cpm_fit_cli APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
