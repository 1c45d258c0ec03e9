"""s2sad.grad(f, jit=True) on the loop benchmarks: first-call compile time and speed.

For each loop program of programs.py (`jit=True` rows), in a fresh process (so the
first call pays for everything Numba compiles, as a user's first call does):

- compile: the first call of the jitted gradient less a steady call (the transform,
  Numba's typing and LLVM's code generation), with an empty cache directory; target
  < 2 s; and "cached": the same in a second fresh process, which loads the machine
  code the first one cached on disk;
- jit/primal: the jitted gradient's time over the Python primal's, the median of
  per-round ratios (each round times both once, in alternating order); target <= 0.1;
- fallback: the JitFallback warning's reason, where Numba refused the code.

A script, not a timed test: `python benchmarks/jit_loops.py [--rounds N] [key ...]`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))


def _best(fn, args, budget=0.05):
    """The fastest of a few calls, enough of them to fill `budget` seconds."""
    times = []
    start = time.perf_counter()
    while not times or time.perf_counter() - start < budget and len(times) < 200:
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(key: str, rounds: int) -> dict:
    """One program, in this process (run by main() in a fresh one)."""
    import programs
    import s2sad
    from s2sad.jit import JitFallback
    program = next(p for p in programs.make_programs() if p.key == key)
    gradient = s2sad.grad(program.primal, wrt=program.wrt, jit=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JitFallback)
        t0 = time.perf_counter()
        gradient(*program.args)
        first = time.perf_counter() - t0
    reasons = [str(w.message) for w in caught if issubclass(w.category, JitFallback)]
    steady = _best(gradient, program.args)
    ratios = []
    for k in range(rounds):
        pair = [(_best(program.primal, program.args), "primal"),
                (_best(gradient, program.args), "jit")]
        if k % 2:
            pair.reverse()
        times = dict((label, t) for t, label in pair)
        ratios.append(times["jit"] / times["primal"])
    return {"key": key, "label": program.label, "compile": first - steady,
            "jit_over_primal": statistics.median(ratios), "fallback": reasons[:1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="program keys (default: every loop row)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # (the child process)
    options = parser.parse_args()
    if options.one:
        print(json.dumps(measure(options.one, options.rounds)))
        return
    import programs
    keys = options.keys or [p.key for p in programs.make_programs() if p.jit]
    print(f"{'program':44} {'compile s':>10} {'cached s':>9} {'jit/primal':>11}  notes")
    for key in keys:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "S2SAD_CACHE_DIR": cache}
            rows = []
            for _ in range(2):  # compiled, then loaded from the cache
                out = subprocess.run([sys.executable, __file__, "--one", key, "--rounds",
                                      str(options.rounds)], capture_output=True, text=True,
                                     env=env)
                if out.returncode:
                    break
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if out.returncode:
            print(f"{key:44} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        row = rows[0]
        row["cached"] = rows[1]["compile"]
        notes = [] if row["compile"] < 2 else ["compile >= 2 s"]
        if row["jit_over_primal"] > 0.1:
            notes.append("ratio > 0.1")
        if row["fallback"]:
            notes.append("FELL BACK: " + row["fallback"][0][:160])
        print(f"{row['label'][:44]:44} {row['compile']:10.2f} {row['cached']:9.2f} "
              f"{row['jit_over_primal']:11.3f}  "
              + "; ".join(notes))


if __name__ == "__main__":
    main()
