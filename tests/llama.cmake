# Llama (issue 21): the tests that run the PyTorch oracle (tests/oracle/llama_torch.py)
# take a few seconds of torch each.
set_tests_properties(test_llama_torch test_llama_hf test_llama2c test_llama_tok PROPERTIES LABELS oracle)
# --arch through an experiment: two small collapse runs (Llama and GPT-2), ~8 CPU-s.
set_tests_properties(test_llama_exp PROPERTIES LABELS e2e)
# Decoding's barrier runs 3 threads on the 2 cores.
set_tests_properties(test_nn_team test_llama_decode PROPERTIES PROCESSORS 2)
