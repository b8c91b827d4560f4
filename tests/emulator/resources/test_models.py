"""Models: the four base models, fine-tuned models, retrieve with URL-encoded ids, delete rules."""

from __future__ import annotations

import httpx

from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS
from tests.conftest import assert_error

BASE_CREATED = {"ada": 1649357491, "babbage": 1649358449, "curie": 1649359874, "davinci": 1649359874}


def test_list_models_has_the_four_base_models(client: httpx.Client) -> None:
    body = client.get("/models").json()
    assert list(body) == ["object", "data"]
    assert [m["id"] for m in body["data"]] == [*BASE_MODELS, *MODERN_MODELS]
    for model in body["data"][:4]:
        assert list(model) == ["id", "object", "created", "owned_by", "permission", "root", "parent"]
        assert model["created"] == BASE_CREATED[model["id"]]
        assert (model["owned_by"], model["root"], model["parent"]) == ("openai", model["id"], None)
        assert model["permission"][0]["object"] == "model_permission"


def test_retrieve_model_base(client: httpx.Client) -> None:
    assert client.get("/models/davinci").json()["id"] == "davinci"


def test_retrieve_model_unknown_is_404(client: httpx.Client) -> None:
    response = client.get("/models/curie%3Aft-personal-2023-01-01-00-00-00")
    assert_error(
        response,
        404,
        "The model 'curie:ft-personal-2023-01-01-00-00-00' does not exist",
        param="model",
        code="model_not_found",
    )


def test_delete_model_base_is_refused(client: httpx.Client) -> None:
    assert_error(
        client.delete("/models/curie"),
        403,
        "You have insufficient permissions to delete the base model 'curie'; only fine-tuned models "
        "your organization owns can be deleted.",
        param="model",
    )
