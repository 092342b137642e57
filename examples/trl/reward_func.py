"""TRL reward functions that score completions with sharelora, each for its dataset row's user.

TRL's GRPOTrainer (trl/trainer/grpo_trainer.py) calls every custom reward function once per batch
of generations with keyword arguments: `prompts`, `completions`, `completion_ids`, and every other
column of the dataset as a list aligned with them (so a `user` column arrives as `user=[...]`),
plus entries of its own such as `trainer_state`. It runs `async def` reward functions concurrently
on an event loop of its own (recent TRL); `sharelora_reward_sync` is for versions without that.

Both dataset formats work:

* standard: `prompts[i]` and `completions[i]` are strings, scored as {"prompt", "response"};
* conversational: they are lists of {"role", "content"} messages, scored as
  {"messages": prompt + completion} (the server applies the model's chat template).

One POST /v1/score per batch (split only beyond the server's 256-item default limit), each item
naming its own user; a row without a user (None or "") gets the global reward, and so does a user
with no adapter yet (the server's default --unknown-user global).

Settings: SHARELORA_URL (default http://127.0.0.1:8080); SHARELORA_API_KEY when the server has
--auth on. Needs aiohttp.

Run as a script, it reads a JSON list of calls from stdin, each a dict of the keyword arguments
(`{"prompts": [...], "completions": [...], "user": [...]}`), and prints the list of reward lists;
`--sync` calls the sync wrapper instead:

    echo '[{"prompts": ["How do I sort a list?"], "completions": ["Use sorted(xs)."],
            "user": ["alice"]}]' | python3 reward_func.py
"""

import asyncio
import concurrent.futures
import json
import os
import sys

import aiohttp

DEFAULT_URL = "http://127.0.0.1:8080"
MAX_ITEMS_PER_REQUEST = 256  # the server's --max-items default
TIMEOUT = aiohttp.ClientTimeout(total=180)
TRIES = 5


class _Retryable(Exception):
    pass


def _content(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    # Multimodal content: a list of parts, of which only the text is scored.
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def _item(prompt, completion, user) -> dict:
    if isinstance(prompt, str) and isinstance(completion, str):
        item = {"prompt": prompt, "response": completion}
    elif isinstance(prompt, list) and isinstance(completion, list):
        messages = [*prompt, *completion]
        item = {"messages": [{"role": m["role"], "content": _content(m)} for m in messages]}
    else:
        raise TypeError(
            "expected a prompt and a completion both strings (standard format) or both lists "
            f"of messages (conversational format), got {type(prompt).__name__} and "
            f"{type(completion).__name__}"
        )
    if user is not None and user != "":
        item["user"] = str(user)
    return item


async def _post(session: aiohttp.ClientSession, url: str, body: dict, headers: dict) -> list:
    for attempt in range(TRIES):
        try:
            async with session.post(url, json=body, headers=headers) as response:
                text = await response.text()
                if response.status == 429 or response.status >= 500:
                    raise _Retryable(f"{response.status}: {text[:500]}")
                if response.status >= 400:
                    raise RuntimeError(f"sharelora {url}: {response.status}: {text[:500]}")
                return [float(reward) for reward in json.loads(text)["rewards"]]
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError, _Retryable) as error:
            if attempt == TRIES - 1:
                raise RuntimeError(f"sharelora {url}: no answer after {TRIES} tries: {error}") from error
            await asyncio.sleep(min(2**attempt, 10))
    raise AssertionError("unreachable")


async def sharelora_reward(prompts, completions, user=None, **kwargs) -> list:
    """The sharelora reward of each completion for its row's `user` (the dataset's user column)."""
    users = user if user is not None else [None] * len(prompts)
    if not (len(prompts) == len(completions) == len(users)):
        raise ValueError(
            f"{len(prompts)} prompts, {len(completions)} completions and {len(users)} users"
        )
    items = [_item(p, c, u) for p, c, u in zip(prompts, completions, users)]
    if not items:
        return []
    url = os.environ.get("SHARELORA_URL", DEFAULT_URL).rstrip("/") + "/v1/score"
    headers = {}
    api_key = os.environ.get("SHARELORA_API_KEY")
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    chunks = [
        items[start : start + MAX_ITEMS_PER_REQUEST]
        for start in range(0, len(items), MAX_ITEMS_PER_REQUEST)
    ]
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        parts = await asyncio.gather(
            *(_post(session, url, {"items": chunk}, headers) for chunk in chunks)
        )
    return [reward for part in parts for reward in part]


def sharelora_reward_sync(prompts, completions, user=None, **kwargs) -> list:
    """`sharelora_reward` for TRL versions that only call plain functions."""
    call = sharelora_reward(prompts, completions, user=user, **kwargs)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call)
    # Called from inside a running event loop (a notebook, say): run on a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call).result()


if __name__ == "__main__":
    calls = json.load(sys.stdin)
    if "--sync" in sys.argv[1:]:
        results = [sharelora_reward_sync(**call) for call in calls]
    else:

        async def run_all() -> list:
            return list(await asyncio.gather(*(sharelora_reward(**call) for call in calls)))

        results = asyncio.run(run_all())
    print(json.dumps(results))
