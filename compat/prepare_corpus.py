"""The generated corpus `make compat` runs through both prepare_data tools: data sets × formats, and odd files."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Case:
    """One run: `files` are written into an empty directory, then the tool runs with `-f {target}`."""

    name: str
    target: str
    files: dict[str, bytes]
    answers: str | None = None  # None: quiet mode (-q); else the lines typed at the prompts

    def materialise(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (directory / name).write_bytes(data)


WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "match",
    "report",
    "price",
    "Zürich",
    "naïve",
    "日本",
    "emoji 😀",
    "comma, inside",
    'quote "here"',
    "slash/back\\slash",
    "tab\there",
    "new\nline",
    "semi;colon",
    "a/b",
]


def _text(rng: random.Random, words: int = 6, *, plain: bool = False) -> str:
    pool = WORDS[:7] if plain else WORDS
    return " ".join(rng.choice(pool) for _ in range(words))


def conditional(
    rng: random.Random,
    n: int,
    *,
    separator: str = "\n\n###\n\n",
    ending: str = "\n",
    prefix: str = "",
    completion_prefix: str = " ",
    plain: bool = False,
) -> Rows:
    return [
        {
            "prompt": f"{prefix}{_text(rng, plain=plain)} {i}{separator}",
            "completion": f"{completion_prefix}{_text(rng, plain=plain)} {i}{ending}",
        }
        for i in range(n)
    ]


def classification(rng: random.Random, n: int, labels: tuple[str, ...] = ("baseball", "hockey")) -> Rows:
    return [{"prompt": f"Game report number {i} about the match", "completion": rng.choice(labels)} for i in range(n)]


def _csv(rows: list[list[str]], delimiter: str = ",", terminator: str = "\n") -> bytes:
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
    writer.writerows(rows)
    return out.getvalue().encode()


def _table(rows: Rows) -> list[list[str]]:
    header = list(rows[0]) if rows else ["prompt", "completion"]
    return [header, *[[r.get(h, "") for h in header] for r in rows]]


def _xlsx(rows: list[list[object]], sheets: int = 1) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for i in range(1, sheets):
        book.create_sheet(f"extra{i}").append(["prompt", "completion"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _jsonl(rows: Rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


FORMATS: dict[str, Callable[[Rows], tuple[str, bytes]]] = {
    "csv": lambda rows: ("data.csv", _csv(_table(rows))),
    "tsv": lambda rows: ("data.tsv", _csv(_table(rows), "\t", "\r\n")),
    "xlsx": lambda rows: ("data.xlsx", _xlsx(_table(rows))),  # type: ignore[arg-type]
    "jsonl": lambda rows: ("data.jsonl", _jsonl(rows)),
    "json": lambda rows: ("data.json", json.dumps(rows, indent=2).encode()),
    "json_lines": lambda rows: ("data.json", _jsonl(rows)),
}


def data_sets(seed: int = 5) -> dict[str, Rows]:
    rng = random.Random(seed)
    sets: dict[str, Rows] = {
        "clean": conditional(rng, 120, ending=" END"),
        "no_separator": conditional(rng, 30, separator="", ending=""),
        "partial_separator": [
            {**r, "prompt": r["prompt"].rstrip("#\n") if i % 3 else r["prompt"]}
            for i, r in enumerate(conditional(rng, 25, plain=True))
        ],
        "arrow_separator": conditional(rng, 20, separator=" ->", plain=True),
        "long_prompt_prefix": conditional(rng, 30, prefix="Summarize article ", completion_prefix="Summary "),
        "short_prompt_prefix": conditional(rng, 30, prefix="Q: "),
        "space_completion_prefix": conditional(rng, 30, completion_prefix=" Answer: "),
        "classification": classification(rng, 41),
        "classification_many": classification(rng, 150, ("a", "b", "c", "d")),
        "classification_big": classification(rng, 1300),
        "uppercase": [
            {"prompt": r["prompt"].upper(), "completion": r["completion"].upper()}
            for r in conditional(rng, 20, plain=True)
        ],
        "open_ended": [{"prompt": "", "completion": f" {_text(rng)} {i}"} for i in range(15)],
        "long_suffix": conditional(rng, 12, separator=" and that is the end of it ->", ending=" and so it goes"),
        "repeated_suffix": [{"prompt": f"x -> {i} ->", "completion": f" y{i}.\n"} for i in range(12)],
    }
    sets["repeated_completion_suffix"] = [{"prompt": f"q{i} ->", "completion": f" a. b{i}. c."} for i in range(12)]
    sets["completion_is_prefix"] = [
        {"prompt": f"q{i} ->", "completion": " Answer" + ("" if i == 0 else f" {i}")} for i in range(12)
    ]
    dup = conditional(rng, 20)
    sets["duplicates"] = [*dup, dup[3], dup[7], dup[3]]
    empties = conditional(rng, 20)
    for i in (2, 5, 9):
        empties[i]["completion"] = ""
    empties[11]["completion"] = "   "
    sets["empty_completions"] = empties
    longs = conditional(rng, 20)
    for i in (4, 13):
        longs[i]["prompt"] = "word " * 2100 + "\n\n###\n\n"
    sets["long_examples"] = longs
    sets["extra_columns"] = [{**r, "id": str(i), "notes": "n/a"} for i, r in enumerate(conditional(rng, 20))]
    sets["capitalised_columns"] = [{"Prompt": r["prompt"], "COMPLETION": r["completion"]} for r in conditional(rng, 9)]
    sets["missing_prompt"] = [{"question": r["prompt"], "completion": r["completion"]} for r in conditional(rng, 5)]
    sets["identical_prompts"] = [{"prompt": "same prompt", "completion": f" {i}"} for i in range(10)]
    sets["identical_completions"] = [{"prompt": f"p{i} ->", "completion": " same"} for i in range(2)]
    return sets


def _odd_files() -> list[Case]:
    rows = conditional(random.Random(9), 8)
    one = json.dumps(rows[0]).encode()
    return [
        Case("bad_extension", "data.parquet", {"data.parquet": b"x"}),
        Case("no_extension", "datafile", {"datafile": b"x"}),
        Case("missing_file", "missing.csv", {}),
        Case("empty_csv", "data.csv", {"data.csv": b""}),
        Case("header_only_csv", "data.csv", {"data.csv": b"prompt,completion\n"}),
        Case("unterminated_quote", "data.csv", {"data.csv": b'prompt,completion\na,"b\n'}),
        Case("ragged_csv", "data.csv", {"data.csv": b"prompt,completion\na,b\nc,d,e\n"}),
        Case("implicit_index_csv", "data.csv", {"data.csv": b"prompt,completion\n0,a,b\n1,c,d\n2,e,f\n"}),
        Case("short_rows_csv", "data.csv", {"data.csv": b"prompt,completion\na ->,b\nc ->\n\n   \nd ->,e\n"}),
        Case("na_words_csv", "data.csv", {"data.csv": b"prompt,completion\na,NA\nb,null\nc, x\nd,None\ne,y\n"}),
        Case("crlf_quoted_csv", "data.csv", {"data.csv": b'prompt,completion\r\n"a,\r\nb",c\r\n"d""q",e\r\n'}),
        Case("bom_csv", "data.csv", {"data.csv": "\ufeffprompt,completion\na,b\nc,d\n".encode()}),
        Case("duplicate_header_csv", "data.csv", {"data.csv": b"prompt,prompt,completion,\na,b,c,d\ne,f,g,h\n"}),
        Case("invalid_utf8_csv", "data.csv", {"data.csv": b"prompt,completion\na,\xff\n"}),
        Case("upper_extension", "DATA.CSV", {"DATA.CSV": b"prompt,completion\na,b\nc,d\n"}),
        Case("text_file", "data.txt", {"data.txt": b"first line\nsecond, line\n\nthird\n"}),
        Case("text_crlf", "data.txt", {"data.txt": b"one\r\ntwo\r\n"}),
        Case("jsonl_one_object", "one.jsonl", {"one.jsonl": one + b"\n"}),
        Case("jsonl_one_array", "one.jsonl", {"one.jsonl": json.dumps(rows).encode() + b"\n"}),
        Case("json_one_object", "one.json", {"one.json": one}),
        Case(
            "jsonl_malformed", "data.jsonl", {"data.jsonl": _jsonl(rows[:3]) + b'{"prompt": "x",\n' + _jsonl(rows[3:])}
        ),
        Case("jsonl_blank_lines", "data.jsonl", {"data.jsonl": _jsonl(rows[:3]) + b"\n  \n" + _jsonl(rows[3:])}),
        Case(
            "jsonl_nulls_missing",
            "data.jsonl",
            {
                "data.jsonl": b'{"prompt":"a ->","completion":null}\n'
                b'{"prompt":"b ->"}\n{"prompt":"c ->","completion":" x"}\n'
                b'{"completion":" y","prompt":"d ->","other":1}\n'
            },
        ),
        Case(
            "jsonl_numbers",
            "data.jsonl",
            {
                "data.jsonl": b'{"prompt":"a","completion":1}\n'
                b'{"prompt":"b","completion":2}\n{"prompt":"c","completion":"3"}\n'
            },
        ),
        Case("jsonl_empty", "data.jsonl", {"data.jsonl": b""}),
        Case("jsonl_scalars", "data.jsonl", {"data.jsonl": b"1\n2\n3\n"}),
        Case(
            "json_columns",
            "data.json",
            {
                "data.json": json.dumps(
                    {
                        "prompt": {str(i): r["prompt"] for i, r in enumerate(rows)},
                        "completion": {str(i): r["completion"] for i, r in enumerate(rows)},
                    }
                ).encode()
            },
        ),
        Case("xlsx_two_sheets", "data.xlsx", {"data.xlsx": _xlsx(_table(rows), sheets=2)}),  # type: ignore[arg-type]
        Case(
            "xlsx_typed_cells",
            "data.xlsx",
            {
                "data.xlsx": _xlsx(
                    [
                        ["prompt", "completion", None],
                        ["a ->", 1, None],
                        [None, None],
                        ["b ->", 2.5],
                        ["c ->", True],
                        ["d ->", "NA"],
                        ["e ->", " x"],
                    ]
                )
            },
        ),
        Case(
            "taken_output_name",
            "data.jsonl",
            {"data.jsonl": _jsonl(conditional(random.Random(3), 10)), "data_prepared.jsonl": b"old\n"},
        ),
    ]


def _interactive() -> list[Case]:
    rows = conditional(random.Random(4), 30, prefix="Summarize article ", completion_prefix="Summary ", ending="")
    data = {"data.jsonl": _jsonl(rows)}
    cls = {"data.csv": _csv(_table(classification(random.Random(6), 60)))}
    return [
        Case("answer_all_yes", "data.jsonl", data, answers="\n\n\n\n\n"),
        Case("answer_some_no", "data.jsonl", data, answers="n\nY\nN\ny\n\n"),
        Case("answer_no_write", "data.jsonl", data, answers="y\ny\ny\ny\nn\n"),
        Case("answer_no_split", "data.csv", cls, answers="y\ny\nn\ny\n"),
    ]


def cases(seed: int = 5) -> list[Case]:
    """Every case: each data set in every format, the odd files, and interactive answers."""
    result = []
    for set_name, rows in data_sets(seed).items():
        for format_name, render in FORMATS.items():
            target, data = render(rows)
            result.append(Case(f"{set_name}-{format_name}", target, {target: data}))
    big = classification(random.Random(8), 6000, ("yes", "no", "maybe"))
    result.append(Case("classification_valid_cap-csv", "data.csv", {"data.csv": _csv(_table(big))}))
    return result + _odd_files() + _interactive()


_PIECES = ["a", "b", ",", '"', "\n", "\r\n", " ", "\t", "NA", "x y", "\r", "null", "", "é"]
_HEADERS = [
    "prompt,completion\n",
    "prompt,completion,x\n",
    "Prompt,prompt\n",
    "prompt\tcompletion\n",
    '"prompt","completion"\n',
]
_VALUES: list[object] = ["a", "b ->", "", " x", "NA", None, 1, 2.5, True, "é/\\", "line\nbreak", {"k": 1}, [1]]


def _json_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.06:
        return rng.choice(["", "   ", '{"prompt": "x",', "[1, 2]", "3", '"s"', "{}", "null"])
    keys = rng.sample(["prompt", "completion", "Prompt", "extra", "COMPLETION"], k=rng.randint(0, 3))
    if rng.random() < 0.7:
        keys = ["prompt", "completion", *keys]
    return json.dumps({k: rng.choice(_VALUES) for k in keys}, ensure_ascii=rng.random() < 0.5)


def random_files(seed: int, count: int) -> dict[str, bytes]:
    """Small random CSV, TSV, TXT, JSON and JSONL texts for the reader's differential test."""
    rng = random.Random(seed)
    files = {}
    for i in range(count):
        kind = rng.choice(["csv", "tsv", "csv", "jsonl", "json", "txt"])
        if kind in ("csv", "tsv"):
            alphabet = [*_PIECES, "\t"] if kind == "tsv" else _PIECES
            text = rng.choice(_HEADERS) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        elif kind == "txt":
            text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))
        else:
            lines = [_json_line(rng) for _ in range(rng.randint(0, 5))]
            text = (
                json.dumps([json.loads(x) for x in lines if x.startswith("{") and x.endswith("}")])
                if rng.random() < 0.2
                else "\n".join(lines)
            )
        files[f"r{i}.{kind}"] = text.encode()
    return files
