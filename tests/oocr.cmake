# alab oocr: the HTTP evaluation runs against tests/fault_server.c.
set_property(TEST test_oocr_eval APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
