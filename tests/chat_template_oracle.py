"""Oracle for alab's chat templates (src/io/chat_template.c): every template
alab accepts must render as Jinja2 renders it the way transformers'
apply_chat_template does (a sandboxed environment with trim_blocks and
lstrip_blocks, raise_exception defined), byte for byte, over conversations
with system/user/assistant turns, several turns, empty content and unicode;
each assistant turn's span must be where Jinja puts it (start: where a
marker given as that turn's content appears; end: the length of the
conversation up to that turn), and where the template has a generation
prompt, the conversation before the turn rendered with it must be the text
before the span (what transformers-style prefix masking assumes); and every
template outside the shape alab renders must be refused with the message
that names it. Usage: chat_template_oracle.py TOOL SCRATCH_DIR"""
import json, os, subprocess, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError

tool, scratch = sys.argv[1], sys.argv[2]
os.makedirs(scratch, exist_ok=True)
shipped = json.loads(subprocess.run([tool], check=True, capture_output=True, text=True).stdout)


def raise_exception(msg):
    raise TemplateError(msg)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.globals["raise_exception"] = raise_exception


def jinja(template, messages, agp):
    return env.from_string(template).render(messages=messages, add_generation_prompt=agp,
                                            bos_token="<|endoftext|>", eos_token="<|endoftext|>")


# ChatML as model cards give it (e.g. internlm2-chat, OpenHermes), typed here, not taken from alab
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
accepted = {
    "alab": shipped["alab"],
    "chatml (alab's copy)": shipped["chatml"],
    "chatml (model card)": CHATML,
    "chatml with the add_generation_prompt preamble":
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" + CHATML,
    "chatml, one tag a line, whitespace control and a comment": """{# ChatML #}
{%- for message in messages -%}
    {{- "<|im_start|>" + message.role + "\\n" + message.content + "<|im_end|>" + "\\n" -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- "<|im_start|>assistant\\n" -}}
{%- endif -%}
""",
    "alab, indented blocks (trim_blocks, lstrip_blocks)": """{% for message in messages %}
  {% if true_never %}{% endif %}
<|{{ message['role'] }}|>
{{ message['content'] }}
{% endfor %}
{% if add_generation_prompt %}
<|assistant|>
{% endif %}
""",
    "a plain one with a preamble": "Chat log.\n{% for m in [] %}{% endfor %}",
    "role headers": "### Conversation\n{% for message in messages %}### {{ message[\"role\"] }}:\n"
                    "{{ message[\"content\"] }}\n\n{% endfor %}{% if add_generation_prompt %}### assistant:\n{% endif %}",
    "no generation prompt": "{% for message in messages %}[{{ message.role }}] {{ message.content }}\n{% endfor %}",
}
# the two entries above that use statements alab does not read move to the refused list
refused = {
    "an if inside the loop": accepted.pop("alab, indented blocks (trim_blocks, lstrip_blocks)"),
    "a loop over a literal": accepted.pop("a plain one with a preamble"),
    "zephyr (role conditions, eos_token)":
        "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + "
        "eos_token }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + eos_token }}"
        "{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}",
    "llama-3 (set, bos_token, trim)":
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
        "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
        "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}",
    "raise_exception": "{% for message in messages %}{% if message['role'] == 'system' %}{{ raise_exception('no system') }}"
                       "{% endif %}{{ message['content'] }}{% endfor %}",
    "a filter": "{% for message in messages %}{{ message['role'] }}: {{ message['content'] | trim }}\n{% endfor %}",
    "content before role": "{% for message in messages %}{{ message['content'] }} ({{ message['role'] }})\n{% endfor %}",
    "bos_token": "{{ bos_token }}{% for message in messages %}{{ message['role'] }}{{ message['content'] }}{% endfor %}",
    "an unclosed tag": "{% for message in messages %}{{ message['role'] }{% endfor %}",
    "no loop": "Hello {{ messages }}",
    "an empty string": "",
}

conversations = [
    [{"role": "user", "content": "Hello?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who wrote Hamlet?"},
     {"role": "assistant", "content": "Shakespeare."}, {"role": "user", "content": "When?"}],
    [{"role": "user", "content": "Two lines:\nok?"}, {"role": "assistant", "content": "Yes,\n  indented.\n"},
     {"role": "user", "content": ""}, {"role": "assistant", "content": ""}],
    [{"role": "system", "content": ""}, {"role": "user", "content": "caf\u00e9 \u65e5\u672c\u8a9e \U0001F600 na\u00efve"},
     {"role": "assistant", "content": "cr\u00e8me br\u00fbl\u00e9e \u2014 \u00fc"}],
    [{"role": "user", "content": "{{ not a tag }} {% neither %} <|user|> <|im_end|> \\n '\""},
     {"role": "assistant", "content": "  spaces  "}, {"role": "tool", "content": "\t\n"}],
]

cases, expect = [], []
for name, t in accepted.items():
    for ci, conv in enumerate(conversations):
        for agp in (False, True):
            cases.append({"template": t, "messages": conv, "add_generation_prompt": agp})
            expect.append(("render", name, ci, agp))
for name, t in refused.items():
    cases.append({"template": t, "messages": conversations[0], "add_generation_prompt": True})
    expect.append(("refuse", name, 0, True))
path = os.path.join(scratch, "cases.json")
with open(path, "w") as f:
    json.dump(cases, f)
out = subprocess.run([tool, path], check=True, capture_output=True, text=True).stdout.splitlines()
assert len(out) == len(cases), (len(out), len(cases))

fails = checks = 0
def check(cond, what):
    global fails, checks
    checks += 1
    if not cond:
        fails += 1
        print("FAIL:", what)

nbytes = lambda s: len(s.encode("utf-8"))
for case, (kind, name, ci, agp), line in zip(cases, expect, out):
    got = json.loads(line)
    if kind == "refuse":
        check(not got["ok"] and "not one alab can render" in got["error"] and "byte " in got["error"],
              f"{name}: refused with the message ({got.get('error', got.get('text'))!r})")
        continue
    if not check(got["ok"], f"{name}: accepted ({got.get('error')})"):
        pass
    if not got["ok"]:
        continue
    conv = case["messages"]
    want = jinja(case["template"], conv, agp)
    check(got["text"] == want, f"{name}, conversation {ci}, add_generation_prompt={agp}: {got['text']!r} != {want!r}")
    spans = []
    for k, m in enumerate(conv):
        if m["role"] == "assistant":
            marked = jinja(case["template"], conv[:k] + [{"role": "assistant", "content": "\ue000"}], False)
            start = nbytes(marked[:marked.index("\ue000")])
            spans.append([start, nbytes(jinja(case["template"], conv[:k + 1], False))])
            if "add_generation_prompt %}" in case["template"] or "add_generation_prompt -%}" in case["template"]:
                before = jinja(case["template"], conv[:k], True)
                check(nbytes(before) == start and want.startswith(before),
                      f"{name}: the generation prompt is the text before the assistant turn")
    check(got["spans"] == spans, f"{name}, conversation {ci}: spans {got['spans']} != {spans}")

stops = {json.loads(l)["stop"] for l, e in zip(out, expect) if e[1] == "alab" and e[0] == "render" and json.loads(l)["ok"]}
check(stops == {"\n<|"}, f"alab's replies end at '\\n<|' ({stops})")
stops = {json.loads(l)["stop"] for l, e in zip(out, expect) if e[1].startswith("chatml") and e[0] == "render" and json.loads(l)["ok"]}
check(stops == {"<|im_end|>"}, f"ChatML replies end at '<|im_end|>' ({stops})")
print(f"{checks - fails}/{checks} checks passed ({len(accepted)} templates rendered, {len(refused)} refused)")
sys.exit(1 if fails else 0)
