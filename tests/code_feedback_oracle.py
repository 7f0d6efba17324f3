"""Oracle of tests/test_code_feedback.c: where a wrong MBPP solution stops.

Usage: code_feedback_oracle.py TASK.jsonl SOLUTION.py
Runs the task's setup and the solution, then each test in order, in plain
Python (no alab), and prints one line:
  "test N"                 the N-th test's assert fails
  "test N raises MSG"      the N-th test raises another exception
  "line K MSG"             the solution raises MSG at its line K
  "timeout"                still running after 1 s
Nothing is printed when the solution exits the interpreter itself.
MSG is Python's traceback's last line: "Type: message" (SyntaxError: its msg).
"""
import json
import signal
import sys
import traceback


def message(e):
    if isinstance(e, SyntaxError):
        return f"SyntaxError: {e.msg}"
    s = str(e)
    return f"{type(e).__name__}: {s}" if s else type(e).__name__


def solution_line(e):
    if isinstance(e, SyntaxError) and e.filename == "solution":
        return e.lineno
    line = None
    for frame in traceback.extract_tb(e.__traceback__):
        if frame.filename == "solution":
            line = frame.lineno
    return line


def main():
    task = json.loads(open(sys.argv[1]).readline())
    solution = open(sys.argv[2]).read()
    signal.signal(signal.SIGALRM, lambda *a: (print("timeout"), sys.stdout.flush(), sys.exit(0)))
    signal.alarm(1)
    ns = {"__name__": "__main__"}
    exec(task["test_setup_code"], ns)
    try:
        exec(compile(solution, "solution", "exec"), ns)
    except Exception as e:
        print(f"line {solution_line(e)} {message(e)}")
        return
    for n, test in enumerate(task["test_list"], 1):
        try:
            exec(compile(test, "test", "exec"), ns)
        except AssertionError:
            print(f"test {n}")
            return
        except Exception as e:
            k = solution_line(e)
            print(f"line {k} {message(e)}" if k else f"test {n} raises {message(e)}")
            return
    print("passed")


main()
