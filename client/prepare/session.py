"""One run of the tool: the legacy transcript (analysis, questions, write-out, summary) plus ftemu's extras."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from client.prepare.analysis import analyse, classification_flags, output_names, split, training_time
from client.prepare.readers import read_any
from client.prepare.table import Finding, PrepareError, Table
from client.prepare.validators import display
from client.prepare.writer import write_jsonl

if TYPE_CHECKING:
    from client.prepare.tokens import TokenReport

EXIT_OK, EXIT_ERROR, EXIT_NEEDS_FIX = 0, 1, 3


class NoAnswer(Exception):
    """Standard input ended while a question was waiting for an answer."""


class Options:
    """What the command line asked for (plain classes here: `dataclasses` costs ~6 ms to import)."""

    def __init__(
        self, path: str, quiet: bool = False, tokens: bool = False, check: bool = False, line_numbers: bool = False
    ) -> None:
        self.path = path
        self.quiet = quiet
        self.tokens = tokens
        self.check = check
        self.line_numbers = line_numbers


class Session:
    def __init__(self, options: Options, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.options = options
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.findings: list[Finding] = []
        self.applied: list[str] = []
        self.outputs: list[str] = []
        self.token_report: TokenReport | None = None
        self.table: Table | None = None
        self.error: PrepareError | None = None

    def say(self, text: str) -> None:
        self.stdout.write(text)

    def ask(self, question: str) -> bool:
        self.say(question)
        if self.options.quiet:
            self.say("Y\n")
            return True
        self.stdout.flush()
        answer = self.stdin.readline()
        if not answer:
            raise NoAnswer
        return answer.rstrip("\n").lower() != "n"

    def run(self) -> int:
        self.say("Analyzing...\n")
        try:
            table = self.table = read_any(self.options.path, line_numbers=self.options.line_numbers)
            self._analyse(table)
        except PrepareError as exc:
            self.error = exc
            self.stderr.write(f"\n\nERROR in {exc.name} validator: {exc.message}\n\nAborting...")
            return EXIT_ERROR
        if self.options.check:
            return self._check(table)
        try:
            return self._act(table)
        except NoAnswer:
            self.stderr.write("\n\nAborting... standard input ended before an answer was given\n")
            return EXIT_ERROR

    def _analyse(self, table: Table) -> None:
        for finding in analyse(table, self.say):
            if finding.error is not None:
                raise PrepareError(finding.name, finding.error)
            if finding.immediate is not None:
                self.say(finding.immediate)
            self.findings.append(finding)

    def _check(self, table: Table) -> int:
        necessary = [f.necessary for f in self.findings if f.necessary]
        recommended = [f.recommended for f in self.findings if f.recommended]
        if necessary or recommended:
            self.say("\n\nBased on the analysis we would perform the following actions:\n")
            for finding in self.findings:
                if finding.recommended:
                    self.say(f"- [Recommended] {finding.recommended}\n")
                if finding.necessary:
                    self.say(f"- [Necessary] {finding.necessary}\n")
        else:
            self.say("\n\nNo remediations found.\n")
        if self.options.tokens:
            for finding in self.findings:
                if finding.recommended_fix is not None:
                    finding.recommended_fix(table, lambda text: None)
            self._count(table)
        verdict = "failed" if necessary else "passed"
        self.say(
            f"\nCheck {verdict}: {len(necessary)} necessary and {len(recommended)} recommended actions; "
            "nothing was written.\n"
        )
        return EXIT_NEEDS_FIX if necessary else EXIT_OK

    def _count(self, table: Table) -> None:
        from client.prepare.tokens import count_tokens  # the tokenizer (and the emulator's tables) only when asked

        self.token_report = count_tokens(table)
        self.say(self.token_report.message())

    def _act(self, table: Table) -> int:
        necessary = any(f.necessary for f in self.findings)
        if necessary or any(f.recommended for f in self.findings):
            self.say("\n\nBased on the analysis we will perform the following actions:\n")
            for finding in self.findings:
                if finding.recommended and self.ask(f"- [Recommended] {finding.recommended} [Y/n]: "):
                    assert finding.recommended_fix is not None
                    finding.recommended_fix(table, self.say)
                    self.applied.append(finding.recommended)
                if finding.necessary:
                    self.say(f"- [Necessary] {finding.necessary}\n")
                    self.applied.append(finding.necessary)
        else:
            self.say("\n\nNo remediations found.\n")
        if self.options.tokens:
            self._count(table)
        self._write_out(table, changed=necessary or bool(self.applied))
        return EXIT_OK

    def _write_out(self, table: Table, *, changed: bool) -> None:
        path = self.options.path
        classification = table.task_type() == "classification"
        prompt_suffix = display(table.common_suffix("prompts"))
        hint = _stop_hint(display(table.common_suffix("completions")))
        wants_split = classification and self.ask(
            "- [Recommended] Would you like to split into training and validation set? [Y/n]: "
        )
        if not changed and not wants_split:
            self.say(
                f'\nYou can use your file for fine-tuning:\n> openai api fine_tunes.create -t "{path}"\n\n'
                f"{_reminder(prompt_suffix)}{hint}\n"
            )
        elif self.ask("\n\nYour data will be written to a new JSONL file. Proceed [Y/n]: "):
            flags = self._write_files(table, wants_split)
            files = ("s" if wants_split else "") + " to `" + "` and `".join(self.outputs)
            self.say(
                f"\nWrote modified file{files}`\nFeel free to take a look!\n\nNow use that file when fine-tuning:"
                f'\n> openai api fine_tunes.create -t "{self.outputs[0]}"{flags}\n\n'
                f"{_reminder(prompt_suffix) if prompt_suffix else ''}{hint}\n"
            )
        else:
            self.say("Aborting... did not write the file\n")
            return
        self.say(
            f"Once your model starts training, it'll approximately take {training_time(table)} to train a "
            "`curie` model, and less for `ada` and `babbage`. Queue will approximately take half an hour per "
            "job ahead of you.\n"
        )

    def _write_files(self, table: Table, wants_split: bool) -> str:
        """Write the prepared file (or the training and validation files); the `fine_tunes.create` flags for them."""
        names = self.outputs = output_names(self.options.path, wants_split)
        if not wants_split:
            write_jsonl(table, names[0])
            return ""
        train, valid = split(table)
        write_jsonl(train, names[0])
        write_jsonl(valid, names[1])
        return f' -v "{names[1]}"' + classification_flags(table)

    def report(self, code: int) -> dict[str, Any]:
        """The `--json` report: what was found, done and written."""
        table = self.table
        return {
            "file": self.options.path,
            "exit_code": code,
            "examples": len(table) if table is not None else None,
            "task_type": table.task_type() if table is not None else None,
            "error": None if self.error is None else {"validator": self.error.name, "message": self.error.message},
            "findings": [_finding_json(f) for f in self.findings],
            "applied": self.applied,
            "outputs": self.outputs,
            "tokens": None if self.token_report is None else self.token_report.to_json(),
        }


def _stop_hint(ending: str) -> str:
    if not ending:
        return ""
    return f' Make sure to include `stop=["{ending}"]` so that the generated texts ends at the expected place.'


def _reminder(prompt_suffix: str) -> str:
    return (
        f"After you’ve fine-tuned a model, remember that your prompt has to end with the indicator "
        f"string `{prompt_suffix}` for the model to start generating completions, rather than "
        "continuing with the prompt."
    )


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "validator": finding.name,
        "message": finding.immediate,
        "necessary": finding.necessary,
        "recommended": finding.recommended,
        "rows": list(finding.rows),
    }
