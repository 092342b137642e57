#!/usr/bin/env python3
"""POST samples to sharelora's /get_reward the way OpenRLHF's remote reward model client does.

Use it to check a server before pointing a training run at it. It reproduces what OpenRLHF's
single-turn rollout executor (openrlhf/utils/agent.py, `_fetch_rewards_via_http`) sends and keeps
when it is started with `--remote_rm_url`:

* one POST per generated sample, as soon as the sample is decoded (samples run concurrently);
* the body `{"query": [prompt + response], "prompts": [prompt], "labels": [label]}`, where `query`
  is the decoded prompt + response tokens, `prompt` the templated prompt and `label` the dataset's
  `--label_key` column ("" when no `--label_key` is given, which sharelora scores globally);
* `--remote_rm_url` may list several URLs separated by commas: the one-sample batch is split across
  them, so the first URL gets the sample and the others an empty batch (see README.md);
* aiohttp, a new session per try, a 180 s total timeout, up to 5 tries one second apart;
* of the answer it keeps `rewards`, `scores` (falling back to `rewards`) and `extra_logs`.

Standard library + aiohttp only (Debian: `apt-get install python3-aiohttp`).

Samples come from stdin as JSON, a list of
`{"prompt": str, "response": str, "label": any}` (or `"query"` instead of `"response"` for a query
that is not `prompt + response`), or from a prompt file like OpenRLHF's `--prompt_data`:

    python3 post_like_openrlhf.py < samples.json
    python3 post_like_openrlhf.py --prompt_data prompts.jsonl --input_key prompt --label_key user \
        --response " Use sorted(xs)."

It prints one JSON line: a list with, per sample, the scalar `reward` and `score`, the `extra_logs`
(one number each), and the server's whole `answer`; a sample OpenRLHF would be left without a
reward has `"reward": null`, and the exit status is then 1.
"""

import argparse
import asyncio
import json
import os
import sys

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=180)
TRIES = 5


def default_url() -> str:
    return os.environ.get("SHARELORA_URL", "http://127.0.0.1:8080").rstrip("/") + "/get_reward"


async def post_with_retries(url: str, payload: dict, tries: int = TRIES) -> dict:
    """Like OpenRLHF: any failure (a refused connection, a non-2xx status) is logged and retried."""
    last_error = None
    for _ in range(tries):
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.post(url, json=payload) as response:
                    response.raise_for_status()
                    return await response.json()
        except Exception as error:  # OpenRLHF retries every kind of failure
            last_error = error
            print(f"[post_like_openrlhf] request to {url} failed: {error}", file=sys.stderr)
        await asyncio.sleep(1)
    raise RuntimeError(f"{url}: no answer after {tries} tries (last error: {last_error})")


async def fetch_rewards(urls: list, queries: list, prompts: list, labels: list) -> list:
    """One answer per URL: OpenRLHF splits the (here: one-sample) batch evenly across the URLs."""
    per_url = (len(queries) + len(urls) - 1) // len(urls)
    tasks = []
    for i, url in enumerate(urls):
        part = slice(i * per_url, min((i + 1) * per_url, len(queries)))
        payload = {"query": queries[part], "prompts": prompts[part], "labels": labels[part]}
        tasks.append(asyncio.create_task(post_with_retries(url, payload)))
    return await asyncio.gather(*tasks)


def scalar(value):
    """A one-sample answer holds one-element lists; newer OpenRLHF keeps their first element."""
    if isinstance(value, (list, tuple)):
        return scalar(value[0]) if value else None
    return value


async def score_sample(urls: list, sample: dict) -> dict:
    prompt = sample["prompt"]
    query = sample["query"] if "query" in sample else prompt + sample["response"]
    label = sample.get("label", "")
    try:
        answers = await fetch_rewards(urls, [query], [prompt], [label])
    except Exception as error:
        # OpenRLHF logs the failure and leaves the sample without a reward.
        print(f"[post_like_openrlhf] no reward for the sample: {error}", file=sys.stderr)
        answers = None
    answer = answers[0] if answers else None
    if not answer:
        return {"reward": None, "score": None, "extra_logs": {}, "answer": answer}
    # What the executor stores on the sample: reward, scores (or the rewards), extra_logs.
    reward = answer.get("rewards")
    scores = answer.get("scores") or answer.get("rewards")
    extra_logs = answer.get("extra_logs") or {}
    return {
        "reward": scalar(reward),
        "score": scalar(scores),
        "extra_logs": {key: scalar(value) for key, value in extra_logs.items()},
        "answer": answer,
    }


def samples_from_prompt_data(path: str, input_key: str, label_key, response: str) -> list:
    """Rows of a JSONL prompt file, read like OpenRLHF's prompt dataset (no chat template)."""
    samples = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            if not line.strip():
                continue
            row = json.loads(line)
            label = "" if label_key is None else row[label_key]
            samples.append({"prompt": row[input_key], "response": response, "label": label})
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--remote_rm_url",
        default=None,
        help="comma-separated like OpenRLHF's flag; default: $SHARELORA_URL/get_reward",
    )
    parser.add_argument("--prompt_data", help="a JSONL prompt file; without it, samples come from stdin")
    parser.add_argument("--input_key", default="input")
    parser.add_argument("--label_key", default=None)
    parser.add_argument("--response", default="", help="the response appended to every prompt")
    args = parser.parse_args()

    urls = (args.remote_rm_url or default_url()).split(",")
    if args.prompt_data:
        samples = samples_from_prompt_data(
            args.prompt_data, args.input_key, args.label_key, args.response
        )
    else:
        samples = json.load(sys.stdin)
    results = await asyncio.gather(*(score_sample(urls, sample) for sample in samples))
    print(json.dumps(results))
    if any(result["reward"] is None for result in results):
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
