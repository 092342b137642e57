#!/usr/bin/env python3
"""Onboard a simulated user round by round: ask the server which pairs to show, answer them,
fit in append mode, repeat.

The simulated user likes structure (headings, bullet lists, code) and dislikes exclamation marks;
each answer is drawn from their Bradley-Terry model, so they are sometimes inconsistent, like a
person. After every round the script measures how often the server's reward for the user agrees
with the user's own preference on held-out pairs (never asked).

    SHARELORA_URL=http://127.0.0.1:8080 python3 examples/onboarding/onboard.py \
        --user sim:alice --rounds 4 --per-round 4 --strategy information --seed 0

Prints one JSON object: every round's questions, the fit's answer and the held-out agreement.
"""
import argparse
import json
import math
import os
import random

import requests

TOPICS = ["sort a list", "read a file", "parse JSON", "reverse a string", "merge two dicts",
          "count words", "format a date", "find duplicates", "retry a request", "hash a password"]


def responses(topic, rng):
    """Four answers of different styles to one prompt."""
    return [
        f"## How to {topic}\n- Step 1: take the input\n- Step 2: {topic} with the standard library\n"
        f"```py\nresult = run(data)  # {topic}\n```",
        f"Great question! Just {topic} in one line and you're done!!",
        f"To {topic}, use the standard library function made for it and check the result.",
        f"- {topic}: use the library\n- then test it" + ("!" if rng.random() < 0.5 else "."),
    ]


def utility(text):
    """The simulated user's hidden taste."""
    return (1.5 * text.count("\n- ") + 2.0 * ("```" in text) + 1.0 * text.startswith("#")
            - 1.5 * text.count("!"))


def pool(seed, prompts):
    rng = random.Random(seed)
    return [{"prompt": f"How do I {t}?", "responses": responses(t, rng)} for t in prompts]


def post(base, path, body):
    response = requests.post(base + path, json=body, timeout=60)
    if response.status_code >= 400:
        raise SystemExit(f"{path}: {response.status_code} {response.text}")
    return response.json()


def agreement(base, user, pairs):
    """Fraction of held-out pairs where the server's p_a for the user (None: the global reward)
    sides with the user."""
    if not pairs:
        return None
    body = {"pairs": [{"prompt": p, "a": a, "b": b} for p, a, b in pairs]}
    res = post(base, "/v1/compare", body if user is None else {"user": user, **body})
    agree = sum((r["p_a"] > 0.5) == (utility(a) > utility(b))
                for r, (_, a, b) in zip(res["results"], pairs))
    return agree / len(pairs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--user", default="sim:alice")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=4)
    parser.add_argument("--strategy", default="information",
                        choices=["information", "uncertainty", "random"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = os.environ.get("SHARELORA_URL", "http://127.0.0.1:8080").rstrip("/")
    rng = random.Random(args.seed)

    candidates = pool(args.seed, TOPICS[:6])
    held_out = [(c["prompt"], c["responses"][i], c["responses"][j])
                for c in pool(args.seed + 1, TOPICS[6:])
                for i in range(4) for j in range(i + 1, 4)
                if utility(c["responses"][i]) != utility(c["responses"][j])]
    asked = []
    rounds = []
    for number in range(1, args.rounds + 1):
        chosen = post(base, f"/v1/users/{args.user}/queries", {
            "candidates": candidates, "n": args.per_round, "strategy": args.strategy,
            "exclude": asked, "seed": rng.randrange(2 ** 32)})
        pairs = []
        for q in chosen["queries"]:
            c = candidates[q["candidate"]]
            a, b = c["responses"][q["a"]], c["responses"][q["b"]]
            a_wins = rng.random() < 1 / (1 + math.exp(utility(b) - utility(a)))
            pairs.append({"prompt": c["prompt"], "chosen": a if a_wins else b,
                          "rejected": b if a_wins else a})
            asked.append({"candidate": q["candidate"], "a": q["a"], "b": q["b"]})
        fit = post(base, f"/v1/users/{args.user}/fit", {"pairs": pairs, "mode": "append"})
        rounds.append({"round": number, "queries": chosen["queries"], "version": fit["version"],
                       "n_pairs": fit["n_pairs"], "l2": fit["l2"],
                       "held_out_agreement": agreement(base, args.user, held_out)})
    print(json.dumps({"user": args.user, "strategy": args.strategy, "rounds": rounds,
                      "held_out_pairs": len(held_out),
                      "global_agreement": agreement(base, None, held_out)}))


if __name__ == "__main__":
    main()
