"""Legacy model names: a taken second moves a name to the next free one, decided from one read of the store."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette

from emulator.legacy.naming import model_name, name_prefix, unique_model_name
from emulator.store import ModelRecord, NewFineTune, Store
from tests.conftest import capitals, in_process, upload


def _store() -> Store:
    """A store with one organisation and one job the models can belong to."""
    store = Store(None, seed=1)
    org = store.ensure_organization("acme", 0)
    store.insert_fine_tune(NewFineTune("ft-x", org.id, "curie", "curie", None, {}, [], [], 0.0, 0, "succeeded", {}))
    return store


def _add(store: Store, model_id: str) -> None:
    org = store.ensure_organization("acme", 0)
    store.insert_model(ModelRecord(model_id, org.id, 0, "curie", "curie", "ft-x", "p", False))


def test_model_ids_starting_reads_exactly_the_prefix() -> None:
    store = _store()
    prefix = name_prefix("curie", "acme", None)
    inside = [model_name("curie", "acme", None, created) for created in (100, 101, 103)]
    outside = [model_name("curie", "acme", "x", 100), model_name("curie", "acme-2", None, 100), "curie:ft-acme"]
    for model_id in inside + outside:
        _add(store, model_id)
    # Another organisation's name may start so too ("acme-2"): harmless, no stamp starts with its rest.
    assert store.model_ids_starting(prefix) == {*inside, model_name("curie", "acme-2", None, 100)}


def test_model_ids_starting_from_a_name_reads_only_it_and_later_stamps() -> None:
    store = _store()
    names = [model_name("curie", "acme", None, created) for created in (100, 101, 103)]
    for model_id in names:
        _add(store, model_id)
    prefix = name_prefix("curie", "acme", None)
    assert store.model_ids_starting(prefix, first=model_name("curie", "acme", None, 101)) == set(names[1:])
    assert store.model_ids_starting(prefix, first=model_name("curie", "acme", None, 104)) == set()


def test_unique_model_name_takes_the_next_free_second() -> None:
    store = _store()
    for created in (100, 101, 103):
        _add(store, model_name("curie", "acme", None, created))
    taken = store.model_ids_starting(name_prefix("curie", "acme", None))
    assert unique_model_name("curie", "acme", None, 100, taken.__contains__) == (
        model_name("curie", "acme", None, 102),
        102,
    )
    assert unique_model_name("curie", "acme", None, 104, taken.__contains__)[1] == 104


def test_jobs_ending_in_one_second_get_the_following_seconds(make_app: Callable[..., Starlette]) -> None:
    """Instant jobs on a still clock: each model takes the next free second after the names already made."""
    http = in_process(make_app(speed="instant"))
    file_id = upload(http, capitals(20))["id"]
    names = [http.post("/fine-tunes", json={"training_file": file_id}).json()["fine_tuned_model"] for _ in range(3)]
    stamps = [int(name.rsplit("-", 1)[1]) for name in names]
    assert len(set(names)) == 3 and stamps == [stamps[0], stamps[0] + 1, stamps[0] + 2]
