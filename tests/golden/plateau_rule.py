#!/usr/bin/env python3
"""An independent loop of the curriculum's phase-1 plateau rule (docs/METHOD.md, "Curriculum"), written from the
text, not from the C# code. It prints the step and reason that end phase 1 for the signals CurriculumTests uses.

Run:  python3 tests/golden/plateau_rule.py
"""
import math
import random


def steps(fraction, total):
    return int(math.floor(fraction * total + 0.5))  # round half away from zero (positive numbers)


def end_of_phase1(total, signal, window=50, ema=0.98, tol=0.1, p1=0.15, p1_min=0.05):
    budget, minimum = steps(p1, total), steps(p1_min, total)
    w = min(window, max(2, budget // 4))       # the effective window
    smoothing = min(ema, 1 - 1 / w)            # the effective EMA smoothing
    value, history = None, []
    for step in range(total):
        if step > 0:                            # the norm measured on step - 1 is folded in before deciding step
            g = signal(step - 1)
            value = g if value is None else smoothing * value + (1 - smoothing) * g
            history = (history + [value])[-2 * w:]
        if step >= budget:
            return step, "budget"
        if step >= minimum and len(history) >= 2 * w:
            earlier, recent = sum(history[:w]) / w, sum(history[w:]) / w
            if earlier > 0 and abs(recent - earlier) / earlier < tol:
                return step, "plateau"
    return None


if __name__ == "__main__":
    print("T=1000 W=10 settling 1+9exp(-t/10):", end_of_phase1(1000, lambda t: 1 + 9 * math.exp(-t / 10), window=10))
    print("T=1000 W=50 constant:", end_of_phase1(1000, lambda t: 2.0))
    for total in (300, 450):
        noise = random.Random(7)
        print(f"T={total} flat with noise:", end_of_phase1(total, lambda t: 2 + 0.2 * (noise.random() - 0.5)))
        print(f"T={total} falling 3 %/step:", end_of_phase1(total, lambda t: 10 * math.exp(-0.03 * t)))
