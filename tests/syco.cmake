# alab sycophancy: the scripted assistants of tests/syco_persona.c answer
# through fault_server --persona; the mechanism's run is end-to-end scale.
target_sources(fault_server PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/syco_persona.c)
set_property(TEST test_syco_eval APPEND PROPERTY ENVIRONMENT "FAULT_SERVER=$<TARGET_FILE:fault_server>")
