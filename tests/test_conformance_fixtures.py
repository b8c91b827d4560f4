"""The plugin's SDK fixtures in a user's project: the same test in-process and over a socket, under pytest -n 2."""

from __future__ import annotations

from pathlib import Path

from tests.user_pytest import run_user_pytest

USER_TESTS = """
import asyncio

import openai
import pytest

BOTH = pytest.mark.parametrize("ftemu_link", ["in-process", "socket"])


@BOTH
@pytest.mark.parametrize("round", range(4))
def test_one_429_is_retried(ftemu, ftemu_openai, round):
    ftemu.faults.add(method="GET", path="/v1/models", status=429, headers={"retry-after-ms": "20"})
    assert [m.id for m in ftemu_openai.models.list().data][:4] == ["ada", "babbage", "curie", "davinci"]
    assert [e["status"] for e in ftemu.journal()] == [429, 200]   # only this test's requests: isolated


@BOTH
def test_upload_once(ftemu, ftemu_openai, tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"prompt": "a ->", "completion": " b\\\\n"}\\n')
    ftemu_openai.files.create(file=path.open("rb"), purpose="fine-tune")
    assert [(e["method"], e["path"]) for e in ftemu.journal(method="POST")] == [("POST", "/v1/files")]


@BOTH
def test_three_503s_raise(ftemu, ftemu_openai):
    ftemu.faults.add(method="GET", path="/v1/models", status=503, times=3, headers={"retry-after-ms": "1"})
    with pytest.raises(openai.InternalServerError):
        ftemu_openai.models.list()
    assert len(ftemu.journal()) == 3


@BOTH
def test_helpers_inside_async_code(ftemu, ftemu_async_openai):
    # The helpers are sync: called from a coroutine, in a thread whose event loop is running.
    async def body():
        ftemu.faults.add(method="GET", path="/v1/models", status=503, headers={"retry-after-ms": "1"})
        assert len((await ftemu_async_openai.models.list()).data) > 4
        before = ftemu.advance(0)["now"]
        assert ftemu.advance(30)["now"] == before + 30
        assert [e["status"] for e in ftemu.journal(path="/v1/models")] == [503, 200]
        await ftemu_async_openai.close()

    asyncio.run(body())
"""


def test_fixtures_run_in_process_and_over_a_socket_under_xdist(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    result = run_user_pytest(tmp_path, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 passed" in result.stdout
