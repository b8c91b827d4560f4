"""`--tokens`: exact r50k_base counts (as the emulator bills them), rows over the limit, and the cost per model."""

from __future__ import annotations

from dataclasses import dataclass

from client.prepare.table import Table
from emulator.core.catalogue import BASE_MODELS, MAX_EXAMPLE_TOKENS
from emulator.core.pricing import format_cost
from emulator.core.tokens import r50k_base

DEFAULT_EPOCHS = 4
BATCH = 8192


@dataclass(frozen=True)
class TokenReport:
    per_example: list[int]
    over_limit: list[int]
    costs: dict[str, str]

    @property
    def total(self) -> int:
        return sum(self.per_example)

    def message(self) -> str:
        n = len(self.per_example)
        text = (
            f"\n- Your data has {self.total} tokens (r50k_base, prompt + completion) in {n} examples, "
            f"at most {max(self.per_example, default=0)} in one example"
        )
        if self.over_limit:
            text += (
                f"\n- There are {len(self.over_limit)} examples longer than {MAX_EXAMPLE_TOKENS} tokens; "
                f"fine-tuning will fail on them. These are rows: {self.over_limit}"
            )
        prices = ", ".join(f"{model} {cost}" for model, cost in self.costs.items())
        return text + f"\n- Estimated fine-tuning cost at {DEFAULT_EPOCHS} epochs: {prices}\n"

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "max_per_example": max(self.per_example, default=0),
            "over_limit_rows": self.over_limit,
            "epochs": DEFAULT_EPOCHS,
            "costs": self.costs,
        }


def count_tokens(table: Table) -> TokenReport:
    """Tokens of prompt and completion, encoded separately and added, as the emulator plans a job."""
    encoding = r50k_base()
    per_example: list[int] = []
    for start in range(0, len(table), BATCH):
        prompts = encoding.encode_ordinary_batch(table.prompts[start : start + BATCH])
        completions = encoding.encode_ordinary_batch(table.completions[start : start + BATCH])
        per_example += [len(p) + len(c) for p, c in zip(prompts, completions, strict=True)]
    over = [i for i, n in enumerate(per_example) if n > MAX_EXAMPLE_TOKENS]
    trained = sum(per_example) * DEFAULT_EPOCHS
    costs = {name: format_cost(trained, model.training_price_per_1k) for name, model in BASE_MODELS.items()}
    return TokenReport(per_example, over, costs)
