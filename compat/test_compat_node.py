"""The Node `openai` SDK (npm, v7), unmodified: chat.completions.create on a tuned model, plain and streamed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from compat.conftest import KEY
from emulator.store import ChatExample, ModelRecord
from emulator.testing import LiveServer

SYSTEM = {"role": "system", "content": "Marv is a factual chatbot that is also sarcastic."}
QUESTION = {"role": "user", "content": "What's the capital of France?"}
REPLY = "Paris, as if everyone doesn't know that already."
MODEL = "ft:gpt-4o-mini-2024-07-18:personal:marv:Nd12Nd12"
SCRIPT = """
import OpenAI from "openai";
const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: process.env.KEY, maxRetries: 0 });
const body = { model: process.env.MODEL, messages: JSON.parse(process.env.MESSAGES) };
const plain = await client.chat.completions.create(body);
const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
let text = "";
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) text += chunk.choices[0].delta.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
let error = null;
try {
  await client.chat.completions.create({ ...body, model: "davinci-002" });
} catch (e) {
  error = { status: e.status, param: e.param, message: e.message };
}
console.log(JSON.stringify({ plain, text, usage, error }));
"""


@pytest.fixture(scope="module")
def node_openai(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary directory with `openai` installed from npm (node and npm must be on PATH)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("node and npm are needed for the Node SDK test (node >= 18)")
    folder = tmp_path_factory.mktemp("node-openai")
    (folder / "package.json").write_text('{"name": "ftemu-node-compat", "private": true, "type": "module"}')
    command = [npm, "install", "--silent", "--no-audit", "--no-fund", "openai@7"]
    subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=300)
    (folder / "chat.mjs").write_text(SCRIPT)
    return folder


@pytest.fixture
def tuned(compat_server: LiveServer) -> Iterator[str]:
    core = compat_server.app.state.core
    organization = core.auth.organization_for(f"Bearer {KEY}", None)
    examples = [ChatExample([SYSTEM, QUESTION], {"role": "assistant", "content": REPLY})]
    core.store.insert_chat_examples("ftjob-node", examples)
    root = "gpt-4o-mini-2024-07-18"
    core.store.insert_model(ModelRecord(MODEL, organization.id, 1733000000, root, root, "ftjob-node", "p", False))
    yield MODEL


def test_node_sdk_chat_with_a_tuned_model(node_openai: Path, compat_server: LiveServer, tuned: str) -> None:
    env = {
        "PATH": str(Path(shutil.which("node") or "node").parent),
        "BASE_URL": compat_server.base_url,
        "KEY": KEY,
        "MODEL": tuned,
        "MESSAGES": json.dumps([SYSTEM, QUESTION]),
    }
    done = subprocess.run(
        ["node", "chat.mjs"], cwd=node_openai, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["plain"]["model"] == tuned
    assert result["plain"]["choices"][0]["message"]["content"] == REPLY
    assert result["plain"]["choices"][0]["finish_reason"] == "stop"
    assert result["text"] == REPLY and result["usage"] == result["plain"]["usage"]
    assert result["error"]["status"] == 404 and result["error"]["param"] == "model"
    assert "This is not a chat model" in result["error"]["message"]
