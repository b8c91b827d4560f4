"""The base models: their real metadata, training prices (§6) and simulated training speeds."""

from __future__ import annotations

from dataclasses import dataclass

PERMISSION_CREATED = 1675106503


@dataclass(frozen=True)
class BaseModel:
    id: str
    created: int
    training_price_per_1k: float
    usage_price_per_1k: float
    warmup_seconds: float
    seconds_per_1k_tokens: float
    upload_seconds: float


BASE_MODELS: dict[str, BaseModel] = {
    model.id: model
    for model in (
        BaseModel("ada", 1649357491, 0.0004, 0.0016, 60.0, 0.5, 17.0),
        BaseModel("babbage", 1649358449, 0.0006, 0.0024, 70.0, 0.8, 20.0),
        BaseModel("curie", 1649359874, 0.0030, 0.0120, 90.0, 2.0, 25.0),
        BaseModel("davinci", 1649359874, 0.0300, 0.1200, 130.0, 7.0, 37.0),
    )
}
CONTEXT_LENGTH = 2049
MAX_EXAMPLE_TOKENS = 2048


def base_model_names() -> str:
    return ", ".join(BASE_MODELS)
