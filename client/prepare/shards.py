"""A table whose later rows stay in a forked child process, so the checks, fixes and writing use both cores.

The parent keeps the first rows (`local`), the child the rest; neither ever copies the other's values. Each
question the checks ask (`Table.task_type`, `common_prefix`, `present`, ...) goes to the child first, is answered
here for the local rows meanwhile, and the two answers are combined exactly. A fix that changes every value the same
way is sent to the child and applied here too. Anything else (reading `prompts` or `completions`, dropping rows, a
question whose parts cannot be combined exactly) first gathers the child's rows here, after the fixes made so far,
and the object becomes a plain Table: it is always correct, and fast on the common path.

If the child fails in any way, its rows are parsed again here from the file and the fixes made so far replayed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from client.prepare import xfix
from client.prepare.table import Column, Table

PROTOCOL = pickle.HIGHEST_PROTOCOL


class ChildGone(Exception):
    """The child died, closed its pipe, sent something unreadable, or failed at what it was asked."""


# What the parent may ask of the child's rows: the Table methods the checks use, plus a few facts for combining.
def _values(table: Table) -> tuple[list[str], list[str]]:
    return table.prompts, table.completions


def _task_facts(table: Table) -> tuple[bool, int]:
    return any(table.prompts), len(set(table.completions))


def _prompt_hashes(table: Table) -> list[int] | None:
    """The prompts' hashes when no two prompts are equal here (else None: duplicates need the whole table)."""
    if len(set(table.prompts)) != len(table.prompts):
        return None
    return list(map(hash, table.prompts))


def _upper_count(table: Table, column: str) -> int:
    return xfix.upper_count(table.values(column))


def _lower_count(table: Table, column: str) -> int:
    return xfix.case_counts(table.values(column))[1]


def _write_spill(table: Table, spill: str) -> int:
    from client.prepare.writer import write_rows

    with open(spill, "wb") as handle:
        return write_rows(handle, table, 0, len(table))


def _method(name: str) -> Callable[..., Any]:
    def call(table: Table, *args: Any) -> Any:
        return getattr(table, name)(*args)

    return call


COMMANDS: dict[str, Callable[..., Any]] = {
    "values": _values,
    "task_facts": _task_facts,
    "prompt_hashes": _prompt_hashes,
    "upper_count": _upper_count,
    "lower_count": _lower_count,
    "write_spill": _write_spill,
    **{
        name: _method(name)
        for name in (
            "__len__",
            "longest",
            "common_prefix",
            "common_suffix",
            "all_equal",
            "present",
            "repeats",
            "count_starting",
            "empty_completion_rows",
            "long_rows",
            "map_column",
            "append_to",
        )
    },
}


def serve(make: Callable[[], Table], commands_fd: int, answers_fd: int) -> NoReturn:  # pragma: no cover - child
    """In the child: build the table, answer `(True, len)` (or `(False, why)`), then answer commands until EOF."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(commands_fd, "rb") as commands, os.fdopen(answers_fd, "wb") as answers:
            try:
                table = make()
                reply: tuple[bool, Any] = (True, len(table))
            except Exception as exc:
                table, reply = Table([], [], []), (False, f"{type(exc).__name__}: {exc}")
            while True:
                answers.write(pickle.dumps(reply, protocol=PROTOCOL))  # whole, then written: see fork._serve
                answers.flush()
                if reply[0] is False:
                    break
                try:
                    name, args = pickle.load(commands)
                except EOFError:
                    break
                try:
                    reply = (True, COMMANDS[name](table, *args))
                except Exception as exc:
                    reply = (False, f"{type(exc).__name__}: {exc}")
    except BaseException:
        code = 1
    finally:
        os._exit(code)


class Remote:
    """The parent's end of a serving child: commands down one pipe, answers up the other, in order."""

    def __init__(self, make: Callable[[], Table]) -> None:
        commands_read, commands_write = os.pipe()
        answers_read, answers_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process
            os.close(commands_write)
            os.close(answers_read)
            serve(make, commands_read, answers_write)
        os.close(commands_read)
        os.close(answers_write)
        self.pid: int | None = pid
        self._commands = os.fdopen(commands_write, "wb")
        self._answers = os.fdopen(answers_read, "rb")
        self._wanted: deque[bool] = deque([True])  # the first answer: the table's length, or why it failed
        self._finalizer = weakref.finalize(self, _end, pid, self._commands, self._answers)

    def send(self, name: str, *args: Any, wanted: bool = True) -> None:
        """Ask without waiting; `wanted=False` drops the answer (a fix: failures still surface at the next one)."""
        if self.pid is None:
            raise ChildGone("closed")
        try:
            data = pickle.dumps((name, args), protocol=PROTOCOL)
        except Exception as exc:
            raise TypeError(f"cannot send {name}: {exc}") from exc  # not the child's fault: the caller decides
        try:
            self._commands.write(data)
            self._commands.flush()
        except (OSError, ValueError) as exc:
            raise ChildGone(str(exc)) from exc
        self._wanted.append(wanted)

    def receive(self) -> Any:
        """The answer to the oldest wanted question (answers to unwanted ones before it are read and checked)."""
        while self._wanted:
            wanted = self._wanted.popleft()
            try:
                ok, value = pickle.load(self._answers)
            except Exception as exc:
                raise ChildGone(f"no answer: {exc}") from exc
            if not ok:
                raise ChildGone(value)
            if wanted:
                return value
        raise ChildGone("nothing was asked")

    def call(self, name: str, *args: Any) -> Any:
        self.send(name, *args)
        return self.receive()

    def close(self) -> None:
        self.pid = None
        self._finalizer()


def _end(pid: int, commands: Any, answers: Any) -> None:
    """Stop and reap the child (it holds nothing that needs saving), and close both pipes."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for stream in (commands, answers):
        with contextlib.suppress(OSError, ValueError):
            stream.close()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


class ShardedTable(Table):
    """A Table of `local` rows followed by `remote` rows (see the module's text). `recover` parses the child's rows
    again in this process; fixes applied so far are replayed on them."""

    def __init__(self, columns: list[Column], local: Table, remote: Remote, rows: int, recover: Callable[[], Table]):
        # Not Table.__init__: `prompts` and `completions` are properties here, which gather the whole table.
        self.__dict__.update(columns=columns, read=None, rows_dropped=False, _longest=None)
        self.local = local
        self.remote = remote
        self.remote_rows = rows
        self._recover = recover
        self._applied: list[tuple[str, tuple[Any, ...]]] = []
        self._memo: dict[tuple[Any, ...], Any] = {}

    # Reading the values directly gathers the whole table here first.
    @property  # type: ignore[override]
    def prompts(self) -> list[str]:
        self.materialize()
        return self.prompts

    @prompts.setter
    def prompts(self, values: list[str]) -> None:
        self.materialize()
        self.prompts = values

    @property  # type: ignore[override]
    def completions(self) -> list[str]:
        self.materialize()
        return self.completions

    @completions.setter
    def completions(self, values: list[str]) -> None:
        self.materialize()
        self.completions = values

    def materialize(self) -> None:
        """Gather the child's rows (as fixed so far) after the local ones, end the child, become a plain Table."""
        try:
            prompts, completions = self.remote.call("values")
        except ChildGone:
            prompts, completions = _values(self._recovered())
        finally:
            self.remote.close()
        local = self.local
        for name in ("local", "remote", "remote_rows", "_recover", "_applied", "_memo"):
            del self.__dict__[name]
        self.__class__ = Table  # type: ignore[assignment]
        self.prompts = local.prompts + prompts
        self.completions = local.completions + completions
        self._longest = None

    def _recovered(self) -> Table:
        table = self._recover()
        for name, args in self._applied:
            getattr(table, name)(*args)
        return table

    def _both(self, name: str, *args: Any) -> tuple[Any, Any] | None:
        """(the local answer, the child's), asked at once; None when the child failed (the table was gathered)."""
        key = (name, *args)
        if key in self._memo:
            return self._memo[key]  # type: ignore[no-any-return]
        try:
            self.remote.send(name, *args)
            mine = COMMANDS[name](self.local, *args)
            theirs = self.remote.receive()
        except ChildGone:
            self.materialize()
            return None
        self._memo[key] = (mine, theirs)
        return mine, theirs

    def __len__(self) -> int:
        return len(self.local) + self.remote_rows

    def longest(self) -> tuple[int, int]:
        both = self._both("longest")
        if both is None:
            return Table.longest(self)
        (p1, c1), (p2, c2) = both
        return max(p1, p2), max(c1, c2)

    def task_type(self) -> str:
        both = self._both("task_facts")
        if both is not None:
            (mine_prompts, mine_distinct), (their_prompts, their_distinct) = both
            if not (mine_prompts or their_prompts):
                return "open-ended generation"
            if max(mine_distinct, their_distinct) >= len(self) / 3:
                return "conditional generation"  # a part alone has enough distinct completions
            self.materialize()  # counting the union needs both parts' values
        return Table.task_type(self)

    def common_prefix(self, column: str) -> str:
        both = self._both("common_prefix", column)
        return Table.common_prefix(self, column) if both is None else xfix.common_prefix(list(both))

    def common_suffix(self, column: str) -> str:
        both = self._both("common_suffix", column)
        return Table.common_suffix(self, column) if both is None else xfix.common_suffix(list(both))

    def all_equal(self, column: str, value: str) -> bool:
        both = self._both("all_equal", column, value)
        return Table.all_equal(self, column, value) if both is None else all(both)

    def present(self, column: str, needles: Iterable[str]) -> set[str]:
        wanted = tuple(needles)
        both = self._both("present", column, wanted)
        return Table.present(self, column, wanted) if both is None else both[0] | both[1]

    def repeats(self, column: str, suffix: str) -> bool:
        # every value ends with `suffix` (the whole table's common suffix), so this holds per part
        both = self._both("repeats", column, suffix)
        return Table.repeats(self, column, suffix) if both is None else any(both)

    def mostly_upper(self, column: str) -> bool:
        both = self._both("upper_count", column)
        if both is None:
            return Table.mostly_upper(self, column)
        upper = sum(both)
        if upper == 0:
            return False
        both = self._both("lower_count", column)
        return Table.mostly_upper(self, column) if both is None else upper * 2 > sum(both)

    def count_starting(self, column: str, prefix: str) -> int:
        both = self._both("count_starting", column, prefix)
        return Table.count_starting(self, column, prefix) if both is None else sum(both)

    def empty_completion_rows(self) -> list[int]:
        both = self._both("empty_completion_rows")
        return Table.empty_completion_rows(self) if both is None else self._positions(*both)

    def long_rows(self) -> list[int]:
        both = self._both("long_rows")
        return Table.long_rows(self) if both is None else self._positions(*both)

    def _positions(self, mine: list[int], theirs: list[int]) -> list[int]:
        offset = len(self.local)
        return mine + [i + offset for i in theirs]

    def duplicate_rows(self) -> list[int]:
        both = self._both("prompt_hashes")
        if both is not None and both[0] is not None and both[1] is not None and set(both[0]).isdisjoint(both[1]):
            return []  # no prompt repeats within or across the parts, so no (prompt, completion) pair can
        if both is not None:
            self.materialize()
        return Table.duplicate_rows(self)

    def map_column(self, name: str, change: Callable[[str], str], chunk: int = 4096) -> None:
        self._change("map_column", name, change)

    def append_to(self, name: str, suffix: str, chunk: int = 4096) -> None:
        self._change("append_to", name, suffix)

    def _change(self, method: str, *args: Any) -> None:
        """The same change to both parts: sent to the child first (its answer is checked at the next question)."""
        try:
            self.remote.send(method, *args, wanted=False)
        except TypeError:  # a change that cannot be pickled (a lambda): gather the table and change it here
            self.materialize()
            getattr(Table, method)(self, *args)
            return
        except ChildGone:
            pass  # the next question finds the child gone and recovers its rows, replaying this change too
        getattr(self.local, method)(*args)
        self._applied.append((method, args))
        self._memo.clear()

    def write_file(self, path: str) -> None:
        """The local rows written here while the child writes its rows to a spill file beside `path`, appended."""
        from client.prepare.writer import write_rows

        spill = _create_spill(path)
        if spill is None:
            Table.write_file(self, path)
            return
        try:
            try:
                self.remote.send("write_spill", spill)
            except ChildGone:
                self.materialize()
                Table.write_file(self, path)
                return
            with open(path, "wb") as handle:
                write_rows(handle, self.local, 0, len(self.local))
                try:
                    written = self.remote.receive()
                except ChildGone:
                    written = None
                if written is not None and os.path.getsize(spill) == written:
                    _append(handle, spill, written)
                else:
                    rest = self._recovered()
                    write_rows(handle, rest, 0, len(rest))
        finally:
            _remove(spill)


def _create_spill(path: str) -> str | None:
    """A new empty file beside `path` (same file system, so the kernel can copy it), or None if none can be made.

    Named by process id and a counter with O_EXCL rather than through `tempfile`, whose imports cost ~3 ms.
    """
    directory = os.path.dirname(os.path.abspath(path))
    for attempt in range(100):
        spill = os.path.join(directory, f".ftemu-prepare-{os.getpid()}-{attempt}.part")
        try:
            os.close(os.open(spill, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        except OSError:
            return None
        return spill
    return None


def _append(handle: Any, spill: str, size: int) -> None:
    """The spill file's bytes after what `handle` holds, copied in the kernel when it can."""
    handle.flush()
    with open(spill, "rb") as source:
        left = size
        try:
            while left > 0:
                copied = os.copy_file_range(source.fileno(), handle.fileno(), left)
                if copied == 0:
                    raise OSError("copy_file_range copied nothing")
                left -= copied
        except OSError:
            source.seek(size - left)
            handle.seek(0, os.SEEK_END)
            while block := source.read(1 << 20):
                handle.write(block)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
