"""The emulator's settings: one frozen object built from CLI flags and FTEMU_* variables."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator.core.clock import valid_moment
from emulator.inference.quality import parse_quality

GB = 1_000_000_000
JSON_BODY_LIMIT = 16_000_000
MANUAL_CLOCK_START = "2023-05-23T08:00:00Z"


def _setting(default: Any, help: str, *, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "metavar": metavar})


@dataclass(frozen=True)
class Settings:
    """Everything that shapes one emulator instance. Every field is a flag and an FTEMU_* variable."""

    host: str = _setting("127.0.0.1", "Interface to listen on.", metavar="HOST")
    port: int = _setting(8000, "TCP port to listen on.", metavar="PORT")
    data_dir: str = _setting(".ftemu", "Directory for the SQLite store and file contents.", metavar="DIR")
    memory: bool = _setting(False, "Keep everything in memory; nothing survives a restart.")
    organization: str = _setting(
        "personal", "Name of the default organisation (used when --keys is not given).", metavar="NAME"
    )
    keys: str | None = _setting(
        None,
        "JSON or TOML file mapping API keys to organisation names; only those keys work.",
        metavar="FILE",
    )
    seed: int | None = _setting(
        None, "Seed for ids, results and generated text (default: random, kept in the store).", metavar="N"
    )
    speed: str = _setting(
        "60", "Simulated training runs this many times faster than real time, or 'instant'.", metavar="FACTOR"
    )
    clock: str = _setting(
        "system",
        "'system' (wall time) or 'manual' (moves only via POST /_emulator/clock/advance).",
        metavar="KIND",
    )
    clock_start: str = _setting(
        MANUAL_CLOCK_START, "Start of the manual clock (ISO 8601 UTC or Unix seconds).", metavar="TIME"
    )
    training_slots: int = _setting(1, "Jobs that train at once per organisation; others queue.", metavar="N")
    storage_limit: int = _setting(GB, "Bytes of files one organisation may store (default 1 GB).", metavar="BYTES")
    log_level: str = _setting("info", "Server log level (critical, error, warning, info, debug).", metavar="LEVEL")
    access_log: bool = _setting(False, "Log one line per request (off by default: it halves throughput).")
    max_json_body: int = _setting(
        JSON_BODY_LIMIT,
        "Bytes a JSON request body may have; larger ones are refused before they are read.",
        metavar="BYTES",
    )
    quality: str = _setting(
        "ada=0.55,babbage=0.7,curie=0.85,davinci=0.95",
        "Per base model, the chance that a tuned model answers a prompt it was not trained on from its "
        "nearest training example (otherwise base-model text).",
        metavar="BASE=P,...",
    )
    control_key: str | None = _setting(
        None, "Bearer key the /_emulator control plane requires (default: open, as on loopback).", metavar="KEY"
    )
    control_file: str | None = _setting(
        None, "JSON or TOML file of faults and job outcomes in force from start-up.", metavar="FILE"
    )
    webhook_url: str | None = _setting(
        None, "URL that receives signed fine_tuning.job.* webhooks (per organisation: the keys file).", metavar="URL"
    )
    webhook_secret: str | None = _setting(
        None, "Secret the webhooks are signed with (Standard Webhooks; a whsec_ secret is base64).", metavar="SECRET"
    )

    def __post_init__(self) -> None:
        speed_factor(self.speed)
        if self.clock not in ("system", "manual"):
            raise ValueError(f"--clock must be 'system' or 'manual', not {self.clock!r}")
        if self.training_slots < 1:
            raise ValueError("--training-slots must be at least 1")
        if self.storage_limit < 1:
            raise ValueError("--storage-limit must be positive")
        if self.max_json_body < 1:
            raise ValueError("--max-json-body must be positive")
        parse_time(self.clock_start)
        parse_quality(self.quality)
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("--webhook-url needs --webhook-secret")

    @property
    def speed_factor(self) -> float | None:
        """The speed-up factor, or None for instant training."""
        return speed_factor(self.speed)

    @property
    def clock_start_seconds(self) -> float:
        return parse_time(self.clock_start)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def speed_factor(value: str) -> float | None:
    if value == "instant":
        return None
    try:
        factor = float(value)
    except ValueError:
        raise ValueError(f"--speed must be a positive number or 'instant', not {value!r}") from None
    if not factor > 0:
        raise ValueError(f"--speed must be a positive number or 'instant', not {value!r}")
    return factor


def parse_time(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = _parse_iso(value)
    if not valid_moment(seconds):
        raise ValueError(f"not a time from 1970 to 9999: {value!r}")
    return seconds


def _parse_iso(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time or Unix seconds: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def setting_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def env_name(name: str) -> str:
    return "FTEMU_" + name.upper()


def _field_type(f: dataclasses.Field[Any]) -> str:
    return str(f.type).replace("None", "").replace("|", "").strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per setting; defaults stay None so the environment can fill the gaps."""
    group = parser.add_argument_group("emulator settings (each also as an FTEMU_* variable)")
    for f in setting_fields():
        help_text = f"{f.metadata['help']} [{env_name(f.name)}; default: {f.default}]"
        if _field_type(f) == "bool":
            group.add_argument(flag_name(f.name), action="store_true", default=None, help=help_text)
        else:
            group.add_argument(flag_name(f.name), metavar=f.metadata["metavar"], default=None, help=help_text)


def _convert(f: dataclasses.Field[Any], raw: Any) -> Any:
    kind = _field_type(f)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    if kind == "int":
        return int(raw)
    return str(raw)


def load_settings(args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Flags win over FTEMU_* variables, which win over defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in setting_fields():
        raw = getattr(args, f.name, None) if args is not None else None
        if raw is None:
            raw = environ.get(env_name(f.name))
        if raw is not None and raw != "":
            values[f.name] = _convert(f, raw)
    return Settings(**values)


def parse_settings(argv: Sequence[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="ftemu serve")
    add_arguments(parser)
    return load_settings(parser.parse_args(list(argv)))


def markdown_table() -> str:
    """The README's settings table, generated from the fields (a test keeps the README equal to it)."""
    rows = ["| flag | variable | default | what it does |", "|---|---|---|---|"]
    for f in setting_fields():
        default = "off" if f.default is False else "none" if f.default is None else f"`{f.default}`"
        rows.append(f"| `{flag_name(f.name)}` | `{env_name(f.name)}` | {default} | {f.metadata['help']} |")
    return "\n".join(rows)
