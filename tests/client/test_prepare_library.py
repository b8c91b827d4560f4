"""The data-preparation library: read_any, check, fix, split, write_jsonl (one behaviour per test)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from client.prepare import PrepareError, Table, check, fix, read_any, split, write_jsonl
from client.prepare.analysis import _legacy_permutation, output_names
from tests.conftest import FIXTURES

DATA = FIXTURES / "prepare"


def names(findings: list[object]) -> list[str]:
    return [f.name for f in findings]  # type: ignore[attr-defined]


def test_read_any_valid_jsonl_has_no_format_message() -> None:
    table = read_any(str(DATA / "valid.jsonl"))
    assert len(table) == 12
    assert table.read is not None and table.read.immediate is None and table.read.necessary is None


def test_read_any_csv_reports_conversion() -> None:
    table = read_any(str(DATA / "extra_columns.csv"))
    assert table.columns == ["id", "prompt", "completion", "notes"]
    assert table.read is not None
    assert table.read.necessary == "Your format `CSV` will be converted to `JSONL`"


def test_read_any_xlsx_reads_first_sheet_and_warns() -> None:
    table = read_any(str(DATA / "two_sheets.xlsx"))
    assert table.read is not None and table.read.immediate is not None
    assert "WARNING: Reading only the first sheet..." in table.read.immediate
    assert table.completions[0] == "Warsaw"


def test_read_any_txt_makes_completions_with_empty_prompts() -> None:
    table = read_any(str(DATA / "lines.txt"))
    assert table.prompts == [""] * 13
    assert table.completions[0] == "A sentence about Poland." and table.completions[-1] == ""


def test_read_any_single_line_jsonl_is_read_as_json_and_fails() -> None:
    with pytest.raises(PrepareError) as caught:
        read_any(str(DATA / "one_object.jsonl"))
    assert caught.value.name == "read_any_format"
    assert caught.value.message.startswith("Your file `")


def test_read_any_malformed_jsonl_names_the_line_when_asked(tmp_path: Path) -> None:
    path = str(DATA / "malformed.jsonl")
    with pytest.raises(PrepareError) as plain:
        read_any(path)
    with pytest.raises(PrepareError) as numbered:
        read_any(path, line_numbers=True)
    assert plain.value.message == (
        f"Your file `{path}` does not appear to be in valid JSONL format. Please ensure "
        "your file is formatted as a valid JSONL file."
    )
    assert numbered.value.message == plain.value.message + (
        " Line 3: not valid JSON: Expecting property name enclosed in double quotes (column 21)."
    )


def test_read_any_unsupported_extension_is_an_error() -> None:
    path = str(DATA / "data.parquet")
    with pytest.raises(PrepareError) as caught:
        read_any(path)
    assert caught.value.message == (
        "Your file must have one of the following extensions: .CSV, .TSV, .XLSX, .TXT, .JSON or .JSONL Your file "
        f"`{path}` ends with the extension `.parquet` which is not supported."
    )


def test_read_any_missing_file_is_an_error() -> None:
    with pytest.raises(PrepareError) as caught:
        read_any("nowhere.csv")
    assert (caught.value.name, caught.value.message) == ("read_any_format", "File nowhere.csv does not exist.")


def test_read_any_csv_na_words_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text("prompt,completion\na,NA\nb,null\nc, NA\n")
    assert read_any(str(path)).completions == ["", "", " NA"]


def test_read_any_csv_header_with_open_quote_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('prompt,"completion\nfoo,bar\n', encoding="utf-8")  # pandas: EOF inside string
    with pytest.raises(PrepareError) as raised:
        read_any(str(path), line_numbers=True)
    assert raised.value.message.startswith(f"Your file `{path}` does not appear to be in valid CSV format.")
    assert "end of file inside a quoted field" in raised.value.message


def test_read_any_csv_first_row_with_extra_field_becomes_index(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text("prompt,completion\n0,a,b\n1,c\n")
    table = read_any(str(path))
    assert (table.prompts, table.completions) == (["a", "c"], ["b", ""])


def test_check_valid_file_has_nothing_to_do() -> None:
    findings = check(read_any(str(DATA / "valid.jsonl")))
    assert [f for f in findings if f.necessary or f.recommended or f.error] == []


def test_check_missing_prompt_column_ends_with_error() -> None:
    findings = check(read_any(str(DATA / "missing_prompt.csv")))
    assert findings[-1].error == (
        "`prompt` column/key is missing. Please make sure you name your columns/keys appropriately, then retry"
    )


def test_check_reports_duplicates_by_position() -> None:
    duplicated = next(f for f in check(read_any(str(DATA / "duplicates.jsonl"))) if f.name == "duplicated_rows")
    assert duplicated.rows == (12, 13)
    assert duplicated.recommended == "Remove 2 duplicate rows"


def test_check_does_not_change_its_input() -> None:
    table = read_any(str(DATA / "uppercase_columns.csv"))
    check(table)
    assert table.columns == ["Prompt", "COMPLETION"]


def test_check_accepts_plain_records() -> None:
    records = [{"prompt": "a", "completion": "x"}, {"prompt": "b", "completion": "y"}]
    assert "completion_space_start" in names(check(records))


def test_fix_applies_necessary_and_recommended_fixes() -> None:
    table = fix(read_any(str(DATA / "empty_completions.jsonl")))
    assert len(table) == 10 and "" not in table.completions


def test_fix_respects_accept_by_name() -> None:
    table = fix(read_any(str(DATA / "no_separator.jsonl")), accept={"completion_space_start"})
    assert table.prompts[0] == "Capital of Poland is"
    assert table.completions[0] == " Warsaw"


def test_fix_raises_on_a_validator_error() -> None:
    with pytest.raises(PrepareError) as caught:
        fix(read_any(str(DATA / "identical_prompts.jsonl")))
    assert caught.value.name == "common_suffix"


def test_fix_single_pass_can_leave_work_that_until_stable_finishes() -> None:
    records = [{"prompt": f"Q{i} ->", "completion": f" A{i}."} for i in range(3)] + [
        {"prompt": "q0 ->", "completion": " a0."}
    ]
    one_pass = fix(records)
    assert "duplicated_rows" in names(check(one_pass))
    stable = fix(records, until_stable=True)
    assert [f for f in check(stable) if f.recommended or f.necessary] == []


def test_split_matches_numpy_random_state_42() -> None:
    # numpy.random.RandomState(42).permutation(10), as pandas `sample(random_state=42)` uses it.
    assert _legacy_permutation(10) == [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]
    table = Table(["prompt", "completion"], [str(i) for i in range(12)], ["x"] * 12)
    train, valid = split(table)
    assert train.prompts == ["10", "9", "0", "8", "5", "2", "1", "11", "4"]
    assert valid.prompts == ["3", "6", "7"]


def test_output_names_skip_taken_names(tmp_path: Path) -> None:
    shutil.copy(DATA / "valid.jsonl", tmp_path / "data_prepared.jsonl")
    assert output_names(str(tmp_path / "data.csv"), False) == [str(tmp_path / "data_prepared (1).jsonl")]


def test_write_jsonl_escapes_like_pandas() -> None:
    out = io.StringIO()
    write_jsonl([{"prompt": 'a/b "c"\té\x01', "completion": " x\n"}], out)
    assert out.getvalue() == '{"prompt":"a\\/b \\"c\\"\\té\\u0001","completion":" x\\n"}\n'


@pytest.mark.parametrize(
    ("prompt", "line"),
    [
        ('a/b "c"\\\té\x01', '{"prompt":"a\\/b \\"c\\"\\\\\\té\\u0001","completion":" x\\n"}'),  # a control: per value
        ("lone \udc80", '{"prompt":"lone \\udc80","completion":" x\\n"}'),  # a lone surrogate: per value
        ('a/b "c"\\\té\u2028\x7f', '{"prompt":"a\\/b \\"c\\"\\\\\\té\u2028\x7f","completion":" x\\n"}'),  # batch
    ],
)
def test_write_jsonl_file_escapes_like_pandas(tmp_path: Path, prompt: str, line: str) -> None:
    records = [{"prompt": "p", "completion": "c"}, {"prompt": prompt, "completion": " x\n"}]
    write_jsonl(records, str(tmp_path / "o.jsonl"))
    assert (tmp_path / "o.jsonl").read_bytes() == ('{"prompt":"p","completion":"c"}\n' + line + "\n").encode()


def test_write_jsonl_empty_table_writes_one_newline() -> None:
    out = io.StringIO()
    write_jsonl([], out)
    assert out.getvalue() == "\n"


def test_write_jsonl_then_read_any_round_trips(tmp_path: Path) -> None:
    records = [{"prompt": "p/1 ->", "completion": " ü\n"}, {"prompt": "p2 ->", "completion": ' "q"\n'}]
    write_jsonl(records, str(tmp_path / "out.jsonl"))
    assert read_any(str(tmp_path / "out.jsonl")).records() == records
    assert [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()] == records


@pytest.mark.parametrize("text", ['prompt,completion\na,"b\n', 'prompt,completion\na,b\nc,"d'])
def test_read_any_csv_ending_inside_quotes_is_malformed(tmp_path: Path, text: str) -> None:
    path = tmp_path / "open.csv"
    path.write_text(text)
    with pytest.raises(PrepareError) as caught:
        read_any(str(path), line_numbers=True)
    assert caught.value.message.endswith("end of file inside a quoted field.")


def test_read_any_csv_delimiter_after_blank_cr_line_is_eaten(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b"prompt,completion\na,b\r\r,x\r\n")
    assert read_any(str(path)).records() == [{"prompt": "a", "completion": "b"}, {"prompt": "x", "completion": ""}]


def test_fix_completion_emptied_by_prefix_removal_gets_a_space() -> None:
    # The legacy tool crashes here (IndexError on ""[0]); ftemu keeps the row with a single space.
    records = [{"prompt": f"q{i} ->", "completion": "Answer" + ("" if i == 0 else f" {i}r")} for i in range(6)]
    assert fix(records).completions[:2] == [" ", " 1r"]
