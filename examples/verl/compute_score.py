"""A verl custom reward function: each response's reward from sharelora, for the sample's user.

verl loads this file from `custom_reward_function.path` and calls the function named by
`custom_reward_function.name` once per sample, with keyword arguments:

    compute_score(data_source=..., solution_str=<the decoded response>,
                  ground_truth=<reward_model.ground_truth>, extra_info=<the row's extra_info>)

(its reward managers, e.g. verl/workers/reward_manager/naive.py, pass exactly these; the newer
reward loop adds keyword arguments of its own, and `custom_reward_function.reward_kwargs` adds
yours: both end up in **kwargs or in the named parameters below).

The user is the dataset's `extra_info["user"]`: put it in the `extra_info` column of the parquet
files when you build them. verl hands the function the response only, so put the prompt in
`extra_info["prompt"]` as well to have the response scored as the answer to that prompt; without
it the response is scored on its own. No user (missing, None or "") is the global reward.

It POSTs to /get_reward rather than /classify: /get_reward names the user per sample in `labels`
(no served model name to know), splits the prompt off the query so the pair is scored like
/v1/score's {"prompt", "response"} items, and answers the raw reward in `rewards` (/classify scores
one rendered text for the user named in its model field, σ(reward) unless use_activation is false).

Settings: the environment variable SHARELORA_URL (default http://127.0.0.1:8080) or
`custom_reward_function.reward_kwargs.base_url`; SHARELORA_API_KEY, when the server has --auth on.
Needs `requests` (verl's environment has it).

Run as a script, it reads a JSON list of calls from stdin, each
`{"data_source", "solution_str", "ground_truth", "extra_info", "kwargs"?}`, and prints the list of
their rewards:

    echo '[{"data_source": "demo", "solution_str": "Use sorted(xs).", "ground_truth": "",
            "extra_info": {"user": "alice", "prompt": "How do I sort a list?"}}]' \
      | python3 compute_score.py
"""

import json
import os
import sys
import threading
import time

import requests

DEFAULT_URL = "http://127.0.0.1:8080"
TRIES = 5
# verl may call the function from several threads: one connection pool per thread.
_local = threading.local()


class _Retryable(Exception):
    pass


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _request_body(solution_str: str, extra_info) -> dict:
    info = extra_info if hasattr(extra_info, "get") else {}
    user = info.get("user")
    if user is not None and not isinstance(user, str):
        user = str(user)
    prompt = info.get("prompt")
    # An object label: an id that is not a valid user id is a 400, never a silent global reward.
    body = {"labels": [{"user": user or None}]}
    if isinstance(prompt, str):
        body["query"] = [prompt + solution_str]
        body["prompts"] = [prompt]
    else:
        body["query"] = [solution_str]
    return body


def compute_score(
    data_source,
    solution_str,
    ground_truth,
    extra_info=None,
    base_url=None,
    timeout=60.0,
    **kwargs,
) -> float:
    """The sharelora reward of `solution_str` for `extra_info["user"]` (data_source and
    ground_truth are not used: the reward model judges the response itself)."""
    url = (base_url or os.environ.get("SHARELORA_URL") or DEFAULT_URL).rstrip("/") + "/get_reward"
    headers = {}
    api_key = os.environ.get("SHARELORA_API_KEY")
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    body = _request_body(solution_str, extra_info)
    for attempt in range(TRIES):
        try:
            response = _session().post(url, json=body, headers=headers, timeout=timeout)
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retryable(f"{response.status_code}: {response.text[:500]}")
            if response.status_code >= 400:
                # A bad request stays bad: fail now, with the server's explanation.
                raise RuntimeError(f"sharelora {url}: {response.status_code}: {response.text[:500]}")
            return float(response.json()["rewards"][0])
        except (requests.ConnectionError, requests.Timeout, _Retryable) as error:
            if attempt == TRIES - 1:
                raise RuntimeError(f"sharelora {url}: no answer after {TRIES} tries: {error}") from error
            time.sleep(min(2**attempt, 10))
    raise AssertionError("unreachable")


if __name__ == "__main__":
    calls = json.load(sys.stdin)
    rewards = [
        compute_score(
            data_source=call.get("data_source"),
            solution_str=call["solution_str"],
            ground_truth=call.get("ground_truth"),
            extra_info=call.get("extra_info"),
            **call.get("kwargs", {}),
        )
        for call in calls
    ]
    print(json.dumps(rewards))
