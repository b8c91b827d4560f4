"""Models (§2.11-2.13): the four base models, fine-tuned models, retrieve and delete."""

from __future__ import annotations

import calendar
import time

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import assert_error, create_fine_tune

behaviour = pytest.mark.behaviour
BASE_CREATED = {"ada": 1649357491, "babbage": 1649358449, "curie": 1649359874, "davinci": 1649359874}
MODEL_KEYS = ["id", "object", "created", "owned_by", "permission", "root", "parent"]


@behaviour("§2.11", "The model list holds ada, babbage, curie and davinci with their real `created` times")
def test_list_models_has_the_base_models(ftemu: Ftemu) -> None:
    body = ftemu.http.get("/models").json()
    assert list(body) == ["object", "data"] and body["object"] == "list"
    found = {model["id"]: model for model in body["data"]}
    for name, created in BASE_CREATED.items():
        model = found[name]
        assert list(model) == MODEL_KEYS
        assert (model["object"], model["created"], model["owned_by"]) == ("model", created, "openai")
        assert (model["root"], model["parent"]) == (name, None)


@behaviour("§2.11", "A base model carries one model_permission: sampling allowed, fine-tuning flag false")
def test_retrieve_model_base_model_permission(ftemu: Ftemu) -> None:
    model = ftemu.http.get("/models/curie").json()
    (permission,) = model["permission"]
    assert permission["id"].startswith("modelperm-") and permission["object"] == "model_permission"
    assert (permission["allow_sampling"], permission["allow_view"], permission["allow_fine_tuning"]) == (
        True,
        True,
        False,
    )
    assert (permission["organization"], permission["group"], permission["is_blocking"]) == ("*", None, False)


@behaviour(
    "§9.2",
    "Retrieving an unknown model is a 404 `The model 'X' does not exist`, code `model_not_found` (wording unconfirmed)",
)
def test_retrieve_model_unknown_is_404(ftemu: Ftemu) -> None:
    assert_error(
        ftemu.http.get("/models/nope"), 404, "The model 'nope' does not exist", param="model", code="model_not_found"
    )


@pytest.mark.spend(0.01)
@behaviour("§2.11, §5", "A fine-tuned model is retrievable by its `:` name (sent as %3A), `created` = name time")
def test_retrieve_model_fine_tuned_by_encoded_name(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    name = job["fine_tuned_model"]
    model = ftemu.http.get("/models/" + name.replace(":", "%3A")).json()
    assert list(model) == MODEL_KEYS and model["id"] == name
    stamp = calendar.timegm(time.strptime(name[-19:], "%Y-%m-%d-%H-%M-%S"))
    assert model["created"] == stamp
    (permission,) = model["permission"]
    assert permission["id"].startswith("snapperm-") and permission["allow_fine_tuning"] is True
    assert name in [m["id"] for m in ftemu.http.get("/models").json()["data"]]


@pytest.mark.spend(0.01)
@behaviour("§2.13", "Deleting a fine-tuned model answers `{id, object: model, deleted: true}`; then it is gone")
def test_delete_model_fine_tuned(ftemu: Ftemu) -> None:
    name = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})["fine_tuned_model"]
    response = ftemu.http.delete("/models/" + name.replace(":", "%3A"))
    assert response.status_code == 200
    assert list(response.json().items()) == [("id", name), ("object", "model"), ("deleted", True)]
    assert_error(
        ftemu.http.get(f"/models/{name}"),
        404,
        f"The model '{name}' does not exist",
        param="model",
        code="model_not_found",
    )


@behaviour("§2.13", "A base model cannot be deleted (ftemu: 403 in the envelope)")
def test_delete_model_base_model_is_refused(ftemu: Ftemu) -> None:
    response = ftemu.http.delete("/models/ada")
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["param"] == "model"
    assert ftemu.http.get("/models/ada").status_code == 200
