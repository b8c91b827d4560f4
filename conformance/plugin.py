"""The pytest plugin registered through the pytest11 entry point (imports nothing heavy at load).

Options (group "ftemu"): --target-url, --target-api-key, --target-server, --real-api, --allow-spend,
--spec-dir, --target-timeout. Fixtures: ftemu_server (session, a socket URL), ftemu (per test, a clean
slate, with .faults, .journal, .outcome, .advance, .sdk() and .async_sdk()), openai_client (the current SDK
pointed at it, no retries), ftemu_openai and ftemu_async_openai (default retries; in-process or over a socket as
ftemu_link says). Markers: ftemu(clock=..., speed=..., seed=...),
emulator_only, behaviour(section, text), spend(usd).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import openai

    from conformance.handle import Ftemu
    from conformance.options import TargetOptions  # noqa: F401 (named in a StashKey)
    from conformance.targets import Pool

MARKERS = (
    "ftemu(**settings): an ftemu with these settings, e.g. clock='manual', speed='instant', seed=3",
    "emulator_only: needs ftemu's /_emulator control plane (skipped with --real-api or on other servers)",
    "behaviour(section, text): the documented behaviour a conformance test checks (reference section)",
    "spend(usd): what the test would cost against the real API (runs only within --allow-spend)",
)


@dataclass
class Budget:
    """Money the suite may spend against the real API, and what it has committed so far."""

    limit: float | None
    spent: float = 0.0
    skipped: list[str] = field(default_factory=list)

    def charge(self, amount: float) -> str | None:
        """Commit `amount`, or say why not."""
        if self.limit is None:
            return f"costs about ${amount:.2f} on the real API; pass --allow-spend USD to run it"
        if self.spent + amount > self.limit:
            return f"would exceed the --allow-spend budget (${self.spent:.2f} of ${self.limit:.2f} committed)"
        self.spent += amount
        return None


options_key = pytest.StashKey["TargetOptions"]()
budget_key = pytest.StashKey[Budget]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ftemu", "ftemu conformance kit")
    group.addoption(
        "--target-url",
        metavar="URL",
        default=None,
        help="Run against this OpenAI-compatible base URL (e.g. http://localhost:8000/v1).",
    )
    group.addoption(
        "--target-api-key",
        metavar="KEY",
        default=None,
        help="API key for the target (default: OPENAI_API_KEY for remote targets, a test key otherwise).",
    )
    group.addoption(
        "--target-server",
        action="store_true",
        default=False,
        help="Start ftemu on a free port for the session instead of running it in-process.",
    )
    group.addoption(
        "--real-api",
        action="store_true",
        default=False,
        help="The target is the real OpenAI service: emulator-only tests are skipped.",
    )
    group.addoption(
        "--allow-spend",
        metavar="USD",
        type=float,
        default=None,
        help="With --real-api: run tests that cost money, within this budget in US dollars.",
    )
    group.addoption(
        "--spec-dir",
        metavar="DIR",
        default=None,
        help="Directory of the official OpenAPI specs; every response is checked against "
        "openapi-2023-12-22-legacy.yaml plus the kit's errata (default: $FTEMU_SPEC_DIR).",
    )
    group.addoption(
        "--target-timeout",
        metavar="SECONDS",
        type=float,
        default=900.0,
        help="How long to wait for a job on a target whose clock cannot be moved.",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    from conformance.options import TargetOptions

    options = TargetOptions(
        url=config.getoption("--target-url"),
        api_key=config.getoption("--target-api-key"),
        server=config.getoption("--target-server"),
        real_api=config.getoption("--real-api"),
        allow_spend=config.getoption("--allow-spend"),
        timeout=config.getoption("--target-timeout"),
    )
    config.stash[options_key] = options
    config.stash[budget_key] = Budget(options.allow_spend)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from conformance.schema import spec_notice

    options = config.stash[options_key]
    schema = spec_notice(config.getoption("--spec-dir"))
    return [f"ftemu conformance target: {options.describe()}; schema check: {schema}"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """A skipped schema check is said again at the end, where `-q` runs (the Makefile's) still show it."""
    from conformance.schema import spec_notice

    notice = spec_notice(config.getoption("--spec-dir"))
    if notice.startswith("SKIPPED"):
        terminalreporter.write_line(f"ftemu conformance schema check {notice}", yellow=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    options = item.config.stash[options_key]
    if options.kind != "real-api":
        return
    if item.get_closest_marker("emulator_only"):
        pytest.skip("emulator-only: the real API has no /_emulator control plane")
    spend = item.get_closest_marker("spend")
    if spend is not None:
        reason = item.config.stash[budget_key].charge(float(spend.args[0]))
        if reason:
            pytest.skip(reason)


@pytest.fixture(scope="session")
def ftemu_pool(pytestconfig: pytest.Config) -> Iterator[Pool]:
    """Every target instance of the session, one per distinct settings (closed at the end)."""
    from conformance.schema import Spec, find_spec
    from conformance.targets import Pool

    try:
        spec_path = find_spec(pytestconfig.getoption("--spec-dir"))
    except FileNotFoundError as exc:
        raise pytest.UsageError(str(exc)) from None
    pool = Pool(pytestconfig.stash[options_key], Spec.load(spec_path) if spec_path else None)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def ftemu_server(ftemu_pool: Pool) -> str:
    """The base URL (ending in /v1) of an ftemu listening on a real socket for the whole session."""
    return ftemu_pool.get().base_url


def _wanted_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    wanted: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("ftemu"))):
        wanted.update(marker.kwargs)
    return wanted


@pytest.fixture
def ftemu(request: pytest.FixtureRequest, ftemu_pool: Pool) -> Iterator[Ftemu]:
    """A clean slate for this test (POST /_emulator/reset) on the target chosen by the options and marker."""
    from conformance.handle import Ftemu

    wanted = _wanted_settings(request)
    instance = ftemu_pool.get(wanted)
    reason = instance.mismatch(wanted)
    if reason:
        pytest.skip(reason)
    handle = Ftemu(instance)
    if request.node.get_closest_marker("emulator_only") and not handle.emulator:
        pytest.skip("emulator-only: the target has no /_emulator control plane")
    if handle.emulator:
        handle.reset()
    yield handle
    handle.close()


@pytest.fixture
def ftemu_link(ftemu: Ftemu) -> str:
    """How the SDK fixtures reach the target: "in-process" (no socket) or "socket". Parametrize it to run a test
    both ways: `@pytest.mark.parametrize("ftemu_link", ["in-process", "socket"])`."""
    return "in-process" if ftemu.instance.options.kind == "in-process" else "socket"


@pytest.fixture
def ftemu_openai(ftemu: Ftemu, ftemu_link: str) -> openai.OpenAI:
    """The current SDK with its default retries, on the target over `ftemu_link`."""
    return ftemu.sdk(socket=ftemu_link == "socket")


@pytest.fixture
def ftemu_async_openai(ftemu: Ftemu, ftemu_link: str) -> openai.AsyncOpenAI:
    """The async SDK with its default retries, on the target over `ftemu_link`."""
    return ftemu.async_sdk(socket=ftemu_link == "socket")


@pytest.fixture
def openai_client(ftemu: Ftemu) -> Iterator[openai.OpenAI]:
    """The current `openai` SDK pointed at the target (in-process targets get an in-process transport)."""
    import openai

    http = ftemu.instance.new_http()
    client = openai.OpenAI(api_key=ftemu.api_key, base_url=str(http.base_url), http_client=http, max_retries=0)
    yield client
    client.close()
