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


# The modern catalogue (modern-fine-tuning.md A6, A10): chat and completion models of today's API. Prices are
# per 1,000,000 training tokens; `example_token_limit` is the longest training example; None where a model is
# served but cannot be fine-tuned. Sources: A6 (✅ gpt-4o-mini 3.00 and 65,536; gpt-3.5-turbo-0125 8.00 and
# 16,385; -0613 4,096; gpt-4o 25.00 ◐). The gpt-4.1 family's and the 002 models' prices are OpenAI's published
# list prices, not in the reference: ours to decide, documented in the README.
@dataclass(frozen=True)
class ModernModel:
    id: str
    created: int
    owned_by: str
    kind: str  # "chat" or "completion": which endpoint serves it
    encoding: str
    context_window: int
    training_price_per_1m: float | None = None
    example_token_limit: int | None = None
    methods: tuple[str, ...] = ()  # the fine-tuning methods it takes; () when it cannot be fine-tuned
    alias_of: str | None = None  # an alias answers as its snapshot


_TUNED = ("supervised", "dpo")
MODERN_MODELS: dict[str, ModernModel] = {
    model.id: model
    for model in (
        ModernModel(
            "gpt-4o-mini-2024-07-18", 1721172717, "system", "chat", "o200k_base", 128_000, 3.00, 65_536, _TUNED
        ),
        ModernModel(
            "gpt-4o-mini", 1721172741, "system", "chat", "o200k_base", 128_000, alias_of="gpt-4o-mini-2024-07-18"
        ),
        ModernModel("gpt-4o-2024-08-06", 1722814719, "system", "chat", "o200k_base", 128_000, 25.00, 65_536, _TUNED),
        ModernModel("gpt-4o", 1715367049, "system", "chat", "o200k_base", 128_000, alias_of="gpt-4o-2024-08-06"),
        ModernModel("gpt-4.1-2025-04-14", 1744315746, "system", "chat", "o200k_base", 1_047_576, 25.00, 65_536, _TUNED),
        ModernModel("gpt-4.1", 1744316542, "system", "chat", "o200k_base", 1_047_576, alias_of="gpt-4.1-2025-04-14"),
        ModernModel(
            "gpt-4.1-mini-2025-04-14", 1744317547, "system", "chat", "o200k_base", 1_047_576, 5.00, 65_536, _TUNED
        ),
        ModernModel(
            "gpt-4.1-mini", 1744318173, "system", "chat", "o200k_base", 1_047_576, alias_of="gpt-4.1-mini-2025-04-14"
        ),
        ModernModel(
            "gpt-4.1-nano-2025-04-14", 1744321025, "system", "chat", "o200k_base", 1_047_576, 1.50, 65_536, _TUNED
        ),
        ModernModel(
            "gpt-4.1-nano", 1744321707, "system", "chat", "o200k_base", 1_047_576, alias_of="gpt-4.1-nano-2025-04-14"
        ),
        ModernModel(
            "o4-mini-2025-04-16", 1744133506, "system", "chat", "o200k_base", 200_000, None, 65_536, ("reinforcement",)
        ),
        ModernModel("o4-mini", 1744225351, "system", "chat", "o200k_base", 200_000, alias_of="o4-mini-2025-04-16"),
        ModernModel(
            "gpt-3.5-turbo-0125", 1706048358, "system", "chat", "cl100k_base", 16_385, 8.00, 16_385, ("supervised",)
        ),
        ModernModel(
            "gpt-3.5-turbo-1106", 1698959748, "system", "chat", "cl100k_base", 16_385, 8.00, 16_385, ("supervised",)
        ),
        ModernModel(
            "gpt-3.5-turbo-0613", 1686587434, "openai", "chat", "cl100k_base", 4_096, 8.00, 4_096, ("supervised",)
        ),
        # In 2024 the alias itself was accepted for fine-tuning and resolved (modern-fine-tuning.md A2, CB-fc).
        ModernModel(
            "gpt-3.5-turbo",
            1677610602,
            "openai",
            "chat",
            "cl100k_base",
            16_385,
            8.00,
            16_385,
            ("supervised",),
            alias_of="gpt-3.5-turbo-0125",
        ),
        ModernModel("gpt-4-0613", 1686588896, "openai", "chat", "cl100k_base", 8_192),
        ModernModel("gpt-4", 1687882411, "openai", "chat", "cl100k_base", 8_192, alias_of="gpt-4-0613"),
        ModernModel(
            "babbage-002", 1692634615, "system", "completion", "cl100k_base", 16_384, 0.40, 16_384, ("supervised",)
        ),
        ModernModel(
            "davinci-002", 1692634301, "system", "completion", "cl100k_base", 16_384, 6.00, 16_384, ("supervised",)
        ),
        ModernModel("gpt-3.5-turbo-instruct", 1692901427, "system", "completion", "cl100k_base", 4_096),
    )
}


def modern_model(model_id: str) -> ModernModel | None:
    """A modern base model by id or alias; a tuned `ft:{base}:…` name answers with its base snapshot."""
    if model_id.startswith("ft:"):
        model_id = model_id.split(":", 2)[1]
    return MODERN_MODELS.get(model_id)


def snapshot_of(model: ModernModel) -> ModernModel:
    """The dated snapshot an alias stands for (a snapshot is its own)."""
    return MODERN_MODELS[model.alias_of] if model.alias_of else model
