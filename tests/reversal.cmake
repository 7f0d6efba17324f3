# The reversal-curse training run takes about half a minute in Release.
set_tests_properties(test_reversal_run PROPERTIES LABELS slow)
